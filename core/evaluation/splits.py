"""Train/valid/test splits of an interaction log: leave-last-out, seeded random 80/10/10, global time cut.

Before any split the log is restricted to the candidate pool, repeats of a (shopper, SKU) pair are dropped
(the earliest is kept, so no test item can also be history) and shoppers with fewer than
`min_interactions` remaining interactions are filtered. Every drop is counted in the FilterReport.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.catalog.interactions import Interactions
from core.errors import EvaluationError

SPLITS = ("loo", "random", "temporal", "given")
SPLIT_HELP = {
    "loo": "leave-last-out by time: last interaction = test, second last = validation",
    "random": "random per shopper 80/10/10 (seeded, MMRec style)",
    "temporal": "global time cut: the latest 10% of interactions = test, the 10% before = validation",
    "given": "the file's own train/valid/test labels (MMRec x_label)",
}
RANDOM_FRACTIONS = (0.8, 0.1, 0.1)
TEMPORAL_CUTS = (0.8, 0.9)


@dataclass
class FilterReport:
    """What was dropped on the way from the raw log to the evaluated shoppers, and why."""

    interactions_in: int
    shoppers_in: int
    outside_pool: int  # rows whose SKU has no vector in some compared representation
    repeats: int  # repeated (shopper, SKU) rows; the earliest is kept
    min_interactions: int
    shoppers_too_short: int
    shoppers_cold: int  # shoppers with test items but no earlier history (temporal / given splits)
    shoppers_evaluated: int
    shoppers_tuning: int  # shoppers with validation items, used only to tune fusion weights

    def summary(self) -> str:
        return (f"{self.interactions_in:,} interactions from {self.shoppers_in:,} shoppers; "
                f"{self.outside_pool:,} rows dropped (SKU outside the candidate pool), {self.repeats:,} repeats "
                f"removed; {self.shoppers_too_short:,} shoppers with fewer than {self.min_interactions} "
                f"interactions filtered; {self.shoppers_cold:,} without history before their test items; "
                f"{self.shoppers_evaluated:,} shoppers evaluated ({self.shoppers_tuning:,} with validation items).")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Phase:
    """One ranking task per shopper: known history (excluded from the ranking) and held-out targets."""

    shoppers: list[str]
    history: list[list[str]]
    targets: list[list[str]]

    def __len__(self) -> int:
        return len(self.shoppers)


@dataclass
class Split:
    method: str
    seed: int
    frame: pd.DataFrame  # the filtered log with a `part` column: train / valid / test
    filter: FilterReport

    def phase(self, name: str) -> Phase:
        return _phase(self.frame, name)

    def counts(self) -> dict[str, int]:
        return {part: int((self.frame["part"] == part).sum()) for part in ("train", "valid", "test")}


def split_interactions(interactions: Interactions, method: str, pool: Collection[str], *, seed: int = 0,
                       min_interactions: int = 3) -> Split:
    """Filter to the pool, de-duplicate, drop short histories, then assign train/valid/test parts."""
    if method not in SPLITS:
        raise EvaluationError(f"unknown split {method!r}; choose one of {', '.join(SPLITS)}")
    if method == "given" and not interactions.has_labels:
        raise EvaluationError("split 'given' needs a file with its own train/valid/test labels (MMRec x_label)")
    if min_interactions < 2:
        raise EvaluationError("min_interactions must be at least 2 (one history item and one test item)")
    raw = interactions.frame
    pool = set(pool)
    df = raw[raw["sku"].isin(pool)].copy()
    outside = len(raw) - len(df)
    df["row"] = np.arange(len(df))
    df = df.sort_values(["timestamp", "row"], kind="stable")  # time order; ties keep file order
    repeat = df.duplicated(["shopper_id", "sku"], keep="first")
    df = df[~repeat]
    sizes = df.groupby("shopper_id")["sku"].transform("size")
    too_short = df.loc[sizes < min_interactions, "shopper_id"].nunique()
    df = df[sizes >= min_interactions].copy()
    if df.empty:
        raise EvaluationError(f"no shopper has {min_interactions}+ interactions with SKUs in the candidate pool "
                              f"({len(pool):,} SKUs; {outside:,} of {len(raw):,} rows fall outside it)")
    df["part"] = {"loo": _loo, "random": _random, "temporal": _temporal, "given": _given}[method](df, seed)
    df = df.drop(columns=["row"]).reset_index(drop=True)
    test, valid = _phase(df, "test"), _phase(df, "valid")
    with_test = df.loc[df["part"] == "test", "shopper_id"].nunique()
    report = FilterReport(
        interactions_in=len(raw), shoppers_in=raw["shopper_id"].nunique(), outside_pool=outside,
        repeats=int(repeat.sum()), min_interactions=min_interactions, shoppers_too_short=int(too_short),
        shoppers_cold=with_test - len(test), shoppers_evaluated=len(test), shoppers_tuning=len(valid))
    if not len(test):
        raise EvaluationError(f"the {method} split leaves no shopper with both history and test items")
    return Split(method, seed, df, report)


def _phase(frame: pd.DataFrame, name: str) -> Phase:
    """'valid': history = train, targets = valid; 'test': history = train + valid, targets = test."""
    history_parts = {"valid": ("train",), "test": ("train", "valid")}[name]
    history = frame[frame["part"].isin(history_parts)].groupby("shopper_id", sort=True)["sku"].agg(list)
    targets = frame[frame["part"] == name].groupby("shopper_id", sort=True)["sku"].agg(list)
    shoppers = sorted(set(history.index) & set(targets.index))
    return Phase(shoppers, [history[s] for s in shoppers], [targets[s] for s in shoppers])


def _loo(df: pd.DataFrame, seed: int) -> np.ndarray:
    """Per shopper in time order: last = test, second last = valid, the rest = train."""
    from_end = df.groupby("shopper_id").cumcount(ascending=False).to_numpy()
    return np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))


def _random(df: pd.DataFrame, seed: int) -> np.ndarray:
    """Per shopper, a seeded shuffle: round-half-up 10% (at least 1) test, 10% (at least 1) valid, rest train."""
    keys = np.random.default_rng([seed, 1]).random(len(df))
    order = pd.Series(keys, index=df.index).groupby(df["shopper_id"]).rank(method="first").to_numpy() - 1
    n = df.groupby("shopper_id")["sku"].transform("size").to_numpy()
    n_test = np.maximum(1, np.floor(n * RANDOM_FRACTIONS[2] + 0.5)).astype(int)
    n_valid = np.maximum(1, np.floor(n * RANDOM_FRACTIONS[1] + 0.5)).astype(int)
    return np.where(order < n_test, "test", np.where(order < n_test + n_valid, "valid", "train"))


def _temporal(df: pd.DataFrame, seed: int) -> np.ndarray:
    """One global cut for everybody: times at or after the 90% quantile = test, the 80-90% band = valid."""
    valid_from, test_from = np.quantile(df["timestamp"].to_numpy(), TEMPORAL_CUTS, method="lower")
    ts = df["timestamp"].to_numpy()
    return np.where(ts >= test_from, "test", np.where(ts >= valid_from, "valid", "train"))


def _given(df: pd.DataFrame, seed: int) -> np.ndarray:
    return df["label"].to_numpy()
