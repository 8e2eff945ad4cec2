"""How much of the catalogue each representation covers, freshly: a partial one (a 12-item A/B sample run) would
shrink the shared candidate pool to its overlap, so it is never preselected and always named when it limits a pool;
a stale vector (embedded before its title, image or description changed) is left out of the pool, never ranked.

The facts come from core.represent.coverage (the one definition of covered and stale). A workspace with vectors
but no items (tests, imported vectors) counts the SKUs with a vector in any representation instead; with no items
there is nothing to be stale against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from core.lab import Lab
from core.represent.coverage import coverage_of

KIND_ORDER = {"title": 0, "visual": 1, "metadata": 2, "description": 3}  # how methods are listed: baselines, then runs


@dataclass(frozen=True)
class Coverage:
    name: str
    items: int  # catalogue SKUs with a vector in this representation
    catalogue: int  # catalogue SKUs
    stale: int = 0  # of those, vectors older than their inputs: left out of the pool

    @property
    def full(self) -> bool:
        return self.items >= self.catalogue and not self.stale

    def text(self) -> str:
        stale = f" ({self.stale:,} stale)" if self.stale else ""
        return f"{self.name}: {self.items:,} of {self.catalogue:,} items{stale}"

    def excluded_text(self) -> str:
        return f"{self.text()} — excluded; describe the rest to compare it"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CatalogueCoverage:
    """Every representation with vectors (registry order: title, visual, runs; by name) against the catalogue."""

    catalogue: set[str]
    registry: pd.DataFrame  # lab.store.representations() rows with vectors, in KIND_ORDER
    skus: dict[str, set[str]]  # representation -> SKUs with a fresh vector
    stale: dict[str, set[str]]  # representation -> catalogue SKUs whose vector is stale

    def of(self, name: str) -> Coverage:
        stale = len(self.stale[name])
        return Coverage(name, len(self.catalogue & self.skus[name]) + stale, len(self.catalogue), stale)

    def all(self) -> list[Coverage]:
        return [self.of(name) for name in self.registry["name"]]


def catalogue_coverage(lab: Lab) -> CatalogueCoverage:
    reps = lab.store.representations()
    skus = {r.name: set(lab.store.vector_text_shas(r.table)) for r in reps.itertuples()}
    reps = reps[reps["name"].isin([n for n, held in skus.items() if held])]
    reps = reps.assign(order=reps["kind"].map(KIND_ORDER).fillna(3)).sort_values(["order", "name"], kind="stable")
    reps = reps.drop(columns="order").reset_index(drop=True)
    stale: dict[str, set[str]] = {n: set() for n in reps["name"]}
    if lab.store.item_count():
        items = lab.store.items()
        catalogue = set(items["sku"])
        stale = {row["name"]: set(coverage_of(lab, row, items).stale) for row in reps.to_dict("records")}
    else:
        catalogue = set().union(*skus.values())
    return CatalogueCoverage(catalogue, reps, {n: skus[n] - stale[n] for n in reps["name"]}, stale)
