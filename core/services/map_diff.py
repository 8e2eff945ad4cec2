"""Map diff: the same SKUs under two representations (typically two prompt versions' runs), so a merchandiser sees
what a prompt change did to the space before promoting it.

An item's neighbourhood is its K nearest other items by cosine, chosen among the SKUs both representations cover (so
coverage differences cannot pose as movement; ties go to catalogue order, the same rule on both sides). How far an
item moved is the Jaccard overlap of its two neighbourhoods, |A ∩ B| / |A ∪ B| (1 = same neighbours, 0 = none
shared); a category's churn is 1 − the mean overlap of its items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import VitrineError
from core.lab import Lab
from core.represent.coverage import coverage
from core.represent.recommend import default_representation, load_matrix
from core.safe_text import formula_safe_csv

K = 10
BLOCK_ROWS = 1024  # similarity rows computed at once: 1024 × 100k float32 is 400 MB at most


class MapDiffError(VitrineError):
    """The two representations cannot be compared; the message says what to change."""


@dataclass(frozen=True)
class DiffCoverage:
    """Which catalogue SKUs were compared (both representations hold a vector) and which were left out, and why."""

    catalogue: int
    compared: int
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    neither: tuple[str, ...]
    stale_a: int  # compared SKUs whose vector in A is older than its input (see core.represent.coverage)
    stale_b: int

    def lines(self, a: str, b: str) -> list[str]:
        """The coverage facts in words, the first always said, the rest when they apply."""
        out = [f"Compared {self.compared:,} of {self.catalogue:,} catalogue items: those with a vector in both "
               f"{a} and {b}. Neighbours are chosen among these {self.compared:,} only."]
        for skus, why in ((self.only_a, f"only in {a}"), (self.only_b, f"only in {b}"), (self.neither, "in neither")):
            if skus:
                out.append(f"Left out: {len(skus):,} item(s) {why}: {_some(skus)}")
        for n, name in ((self.stale_a, a), (self.stale_b, b)):
            if n:
                out.append(f"{n:,} compared item(s) have a stale vector in {name} (their input changed since; "
                           "`vitrine sync` refreshes the active run)")
        return out


@dataclass(frozen=True)
class MapDiff:
    a: str
    b: str
    k: int
    coverage: DiffCoverage
    items: pd.DataFrame  # sku, title, category, overlap, shared, self_cosine: most moved first
    categories: pd.DataFrame  # category, items, mean_overlap, churn: most churned first
    self_cosine_note: str  # why an item's own two vectors are not compared ('' when they are)
    skus: list[str]  # the compared SKUs, in the row order of the neighbour arrays
    neighbours_a: np.ndarray  # (compared, k) row indices into skus
    neighbours_b: np.ndarray
    scores_a: np.ndarray  # (compared, k) cosines
    scores_b: np.ndarray

    @property
    def mean_overlap(self) -> float:
        return float(self.items["overlap"].mean())

    def neighbours(self, sku: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The item's neighbours under A then under B: rank, sku, title, category, cosine and whether each is kept,
        dropped (only in A's list) or new (only in B's)."""
        try:
            row = self.skus.index(sku)
        except ValueError:
            raise MapDiffError(f"{sku} is not among the {len(self.skus):,} items both {self.a} and {self.b} "
                               "cover") from None
        labels = self.items.set_index("sku")[["title", "category"]]
        mine, theirs = self.neighbours_a[row], self.neighbours_b[row]

        def side(idx: np.ndarray, scores: np.ndarray, other: np.ndarray, gone: str) -> pd.DataFrame:
            skus, there = [self.skus[i] for i in idx], set(other.tolist())
            return pd.DataFrame({
                "rank": range(1, len(idx) + 1), "sku": skus, "title": labels.loc[skus, "title"].to_numpy(),
                "category": labels.loc[skus, "category"].to_numpy(), "cosine": scores.astype(float),
                "change": ["kept" if i in there else gone for i in idx.tolist()]})

        return (side(mine, self.scores_a[row], theirs, "dropped"), side(theirs, self.scores_b[row], mine, "new"))

    def csv(self) -> bytes:
        """The per-item table as formula-safe CSV (titles are catalogue text)."""
        return formula_safe_csv(self.items)


def _some(skus: tuple[str, ...], shown: int = 5) -> str:
    return ", ".join(skus[:shown]) + (f" and {len(skus) - shown:,} more" if len(skus) > shown else "")


def neighbourhoods(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows by cosine (rows normalised), best first; a tie goes to the lower row, so two
    representations that tie the same items pick the same ones."""
    n = len(vectors)
    idx, scores = np.empty((n, k), np.int64), np.empty((n, k), np.float32)
    for start in range(0, n, BLOCK_ROWS):
        sims = vectors[start:start + BLOCK_ROWS] @ vectors.T
        rows = np.arange(start, start + len(sims))
        sims[rows - start, rows] = -np.inf
        kth = np.partition(sims, n - k, axis=1)[:, n - k]  # the k-th best score of each row
        for r, (row, cut) in enumerate(zip(sims, kth, strict=True)):
            candidates = np.flatnonzero(row >= cut)
            best = candidates[np.lexsort((candidates, -row[candidates]))][:k]
            idx[start + r], scores[start + r] = best, row[best]
    return idx, scores


def overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the Jaccard overlap of two neighbour lists and how many neighbours they share."""
    shared = np.array([len(set(x) & set(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)])
    union = np.array([len(set(x) | set(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)])
    return shared / np.maximum(union, 1), shared


def _self_cosine_note(lab: Lab, a: str, b: str) -> str:
    """'' when the two representations share a vector space (same encoder and width), else why they do not."""
    ra, rb = lab.store.representation(a), lab.store.representation(b)
    if ra["dim"] != rb["dim"] or not ra["encoder"] or ra["encoder"] != rb["encoder"]:
        return (f"An item's own two vectors are not compared: {a} ({ra['encoder'] or 'unknown encoder'}, "
                f"{ra['dim']}-d) and {b} ({rb['encoder'] or 'unknown encoder'}, {rb['dim']}-d) are not one vector "
                "space; only neighbourhoods are.")
    return ""


def map_diff(lab: Lab, a: str, b: str, k: int = K) -> MapDiff:
    """Compare two representations over the catalogue SKUs both cover: per item, per category and overall."""
    if a == b:
        raise MapDiffError("pick two different runs to compare")
    if k < 1:
        raise MapDiffError(f"k must be at least 1 (got {k})")
    items = lab.store.items()
    ma, mb = load_matrix(lab, a), load_matrix(lab, b)
    catalogue = items["sku"].tolist() if len(items) else []
    skus = [s for s in catalogue if s in ma.index and s in mb.index]
    if len(skus) <= k:
        raise MapDiffError(f"only {len(skus):,} catalogue item(s) have vectors in both {a} and {b}; top-{k} "
                           f"neighbourhoods need at least {k + 1}: describe more of the catalogue under both runs")
    ca, cb = coverage(lab, a), coverage(lab, b)
    compared = set(skus)
    cov = DiffCoverage(
        len(catalogue), len(skus),
        only_a=tuple(s for s in catalogue if s in ma.index and s not in mb.index),
        only_b=tuple(s for s in catalogue if s in mb.index and s not in ma.index),
        neither=tuple(s for s in catalogue if s not in ma.index and s not in mb.index),
        stale_a=len(compared.intersection(ca.stale)), stale_b=len(compared.intersection(cb.stale)))
    va, vb = ma.vectors[[ma.index[s] for s in skus]], mb.vectors[[mb.index[s] for s in skus]]
    na, sa = neighbourhoods(va, k)
    nb, sb = neighbourhoods(vb, k)
    overlap, shared = overlaps(na, nb)
    note = _self_cosine_note(lab, a, b)
    own = (va * vb).sum(axis=1) if not note else np.full(len(skus), np.nan)
    labels = items.set_index("sku").loc[skus]
    table = pd.DataFrame({"sku": skus, "title": labels["title"].to_numpy(), "category": labels["category"].to_numpy(),
                          "overlap": overlap, "shared": shared, "self_cosine": own.astype(float)})
    table = table.sort_values(["overlap", "self_cosine", "sku"], na_position="last", kind="stable")
    categories = (table.groupby("category").agg(items=("sku", "size"), mean_overlap=("overlap", "mean"))
                  .reset_index())
    categories["churn"] = 1.0 - categories["mean_overlap"]
    categories = categories.sort_values(["churn", "category"], ascending=[False, True], kind="stable")
    return MapDiff(a, b, k, cov, table.reset_index(drop=True), categories.reset_index(drop=True), note, skus,
                   na, nb, sa, sb)


def comparable(lab: Lab) -> list[str]:
    """Representations a map diff can take: every stored one, description runs first (what prompt changes make)."""
    reps = lab.store.representations()
    return sorted(reps["name"], key=lambda n: (reps.set_index("name").loc[n, "kind"] != "description", n))


def default_pair(lab: Lab) -> tuple[str, str]:
    """(before, after): another description run, then the active one (the change a promotion would make)."""
    names = comparable(lab)
    if len(names) < 2:
        raise MapDiffError("a map diff needs two representations; describe the catalogue under a second prompt "
                           "(Prompt Lab, or `vitrine describe --prompt NAME`) first")
    after = default_representation(lab)
    before = next(n for n in names if n != after)
    return before, after
