"""Simulated shoppers: sample histories from interactions.csv, picked items or a persona text, and how their
recommendation lists compare across representations or react to losing one history item."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.catalog.interactions import CSV_COLUMNS, read_csv
from core.errors import VitrineError
from core.lab import Lab
from core.represent.recommend import Ranking, Recommendation, load_matrix, profile_vector, recommend, search


class InteractionsError(VitrineError):
    """There is no interactions file where one was expected."""


@dataclass
class Shopper:
    """A simulated shopper: where the profile came from, the profile vector and what it is recommended (with the
    pool it was chosen from)."""

    representation: str
    profile: np.ndarray
    recommendations: Ranking
    history: list[str] = field(default_factory=list)
    persona: str = ""


@dataclass
class Overlap:
    """How much two top-k lists agree: shared SKUs (in list A's order), and the SKUs only one list has."""

    k: int
    common: list[str]
    only_a: list[str]
    only_b: list[str]

    @property
    def count(self) -> int:
        return len(self.common)

    @property
    def jaccard(self) -> float:
        union = len(self.common) + len(self.only_a) + len(self.only_b)
        return len(self.common) / union if union else 1.0


@dataclass
class Sensitivity:
    """The list without one history item, compared with the full-history list."""

    removed: str
    overlap: int
    k: int
    jaccard: float
    entered: list[str]
    left: list[str]


def load_interactions(path: Path) -> pd.DataFrame:
    """shopper_id, sku, timestamp (epoch seconds) rows, validated by the evaluation importer."""
    if not path.is_file():
        raise InteractionsError(f"no interactions file at {path}; add a CSV with columns "
                                f"{', '.join(CSV_COLUMNS)}")
    return read_csv(path, path.name).frame


def shopper_history(interactions: pd.DataFrame, shopper_id: str) -> list[str]:
    """The shopper's SKUs oldest first (the order recency weighting and 'newest-last' assume)."""
    rows = interactions[interactions["shopper_id"] == shopper_id]
    if rows.empty:
        raise VitrineError(f"no interactions for shopper {shopper_id!r}")
    return rows.sort_values("timestamp", kind="stable")["sku"].tolist()


def sample_shoppers(lab: Lab) -> dict[str, list[str]]:
    """Every sample shopper's history (oldest first); empty when the workspace has no interactions.csv."""
    path = lab.workspace.interactions_csv
    if not path.exists():
        return {}
    stat = path.stat()
    return {sid: list(skus) for sid, skus in _histories(path, stat.st_mtime_ns, stat.st_size, stat.st_ino).items()}


@lru_cache(maxsize=8)
def _histories(path: Path, mtime_ns: int, size: int, inode: int) -> dict[str, tuple[str, ...]]:
    """Parsed once per version of the file (the app asks on every rerun); a rewrite changes the stat key."""
    interactions = load_interactions(path).sort_values("timestamp", kind="stable")
    return {str(sid): tuple(group["sku"]) for sid, group in interactions.groupby("shopper_id", sort=True)}


def simulate(lab: Lab, history: list[str], k: int, representation: str) -> Shopper:
    """A shopper from history items: their profile (mean of history vectors) and top-k, history excluded."""
    recs = recommend(lab, history, k, representation)
    profile, _ = profile_vector(load_matrix(lab, representation), history)
    return Shopper(representation, profile, recs, history=list(history))


def persona_profile(lab: Lab, text: str, representation: str, k: int = 10) -> Shopper:
    """A shopper described in words: the embedded text is the profile, ranked like a search query."""
    if lab.store.representation(representation)["kind"] == "visual":
        raise VitrineError(f"{representation!r} holds image features; a persona text can only be compared with "
                           "a description or title representation")
    recs = search(lab, text, k, representation)
    return Shopper(representation, lab.encoder.encode([text])[0], recs, persona=text.strip())


def compare_lists(recs_a: list[Recommendation], recs_b: list[Recommendation]) -> Overlap:
    """Overlap@k of two lists (k = the longer list's length) and their Jaccard similarity."""
    a, b = [r.sku for r in recs_a], [r.sku for r in recs_b]
    common = [s for s in a if s in set(b)]
    return Overlap(max(len(a), len(b)), common, [s for s in a if s not in common],
                   [s for s in b if s not in set(a)])


def sensitivity(lab: Lab, history: list[str], k: int, representation: str) -> list[Sensitivity]:
    """For each history item with a vector: how much of the top-k survives when the shopper had never seen it."""
    index = load_matrix(lab, representation).index
    distinct = [s for s in dict.fromkeys(history) if s in index]  # removing an unknown SKU changes nothing
    if len(distinct) < 2:
        raise VitrineError(f"removing a history item needs at least two different history items with vectors in "
                           f"{representation!r}")
    full = recommend(lab, history, k, representation, explain=False)
    out = []
    for sku in distinct:
        reduced = recommend(lab, [s for s in history if s != sku], k, representation, explain=False)
        ov = compare_lists(full, reduced)
        out.append(Sensitivity(sku, ov.count, len(full), ov.jaccard, entered=ov.only_b, left=ov.only_a))
    return out
