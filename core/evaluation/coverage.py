"""How much of the catalogue each representation covers: a partial one (a 12-item A/B sample run) would shrink
the shared candidate pool to its overlap, so it is never preselected and always named when it limits a pool.

The catalogue is the workspace's items; a workspace with vectors but no items (tests, imported vectors) counts
the SKUs with a vector in any representation instead. Read straight from lab.store (registry + vector SKUs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from core.lab import Lab

KIND_ORDER = {"title": 0, "visual": 1, "description": 2}  # how methods are listed: baselines, then runs


@dataclass(frozen=True)
class Coverage:
    name: str
    items: int  # catalogue SKUs with a vector in this representation
    catalogue: int  # catalogue SKUs

    @property
    def full(self) -> bool:
        return self.items >= self.catalogue

    def text(self) -> str:
        return f"{self.name}: {self.items:,} of {self.catalogue:,} items"

    def excluded_text(self) -> str:
        return f"{self.text()} — excluded; describe the rest to compare it"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CatalogueCoverage:
    """Every representation with vectors (registry order: title, visual, runs; by name) against the catalogue."""

    catalogue: set[str]
    registry: pd.DataFrame  # lab.store.representations() rows with vectors, in KIND_ORDER
    skus: dict[str, set[str]]  # representation -> SKUs with a vector

    def of(self, name: str) -> Coverage:
        return Coverage(name, len(self.catalogue & self.skus[name]), len(self.catalogue))

    def all(self) -> list[Coverage]:
        return [self.of(name) for name in self.registry["name"]]


def catalogue_coverage(lab: Lab) -> CatalogueCoverage:
    reps = lab.store.representations()
    skus = {r.name: set(lab.store.vector_text_shas(r.table)) for r in reps.itertuples()}
    reps = reps[reps["name"].isin([n for n, held in skus.items() if held])]
    reps = reps.assign(order=reps["kind"].map(KIND_ORDER).fillna(3)).sort_values(["order", "name"], kind="stable")
    catalogue = set(lab.store.items()["sku"]) if lab.store.item_count() else set().union(*skus.values())
    return CatalogueCoverage(catalogue, reps.drop(columns="order").reset_index(drop=True),
                             {n: skus[n] for n in reps["name"]})
