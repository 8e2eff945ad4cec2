"""Splits: seeded and deterministic, history never overlaps test items, and every filter is reported."""

import pandas as pd
import pytest

from core.catalog.interactions import from_frame
from core.errors import EvaluationError
from core.evaluation.splits import split_interactions


def log(rows):
    return from_frame(pd.DataFrame(rows, columns=["shopper_id", "sku", "timestamp"]), "test log")


ROWS = [
    # S1: 5 items in time order (file order shuffled), S2: 3 items, S3: 2 items (too short), S4: 1 item outside
    ("S1", "A", 1), ("S1", "C", 3), ("S1", "B", 2), ("S1", "E", 5), ("S1", "D", 4),
    ("S2", "A", 10), ("S2", "B", 11), ("S2", "C", 12),
    ("S3", "A", 1), ("S3", "B", 2),
    ("S4", "Z", 1),
]
POOL = {"A", "B", "C", "D", "E"}


def parts(split, shopper):
    f = split.frame[split.frame["shopper_id"] == shopper]
    return {p: f.loc[f["part"] == p, "sku"].tolist() for p in ("train", "valid", "test")}


def test_leave_last_out_by_time_and_filter_report():
    split = split_interactions(log(ROWS), "loo", POOL, min_interactions=3)
    assert parts(split, "S1") == {"train": ["A", "B", "C"], "valid": ["D"], "test": ["E"]}
    assert parts(split, "S2") == {"train": ["A"], "valid": ["B"], "test": ["C"]}
    f = split.filter
    assert (f.interactions_in, f.shoppers_in, f.outside_pool, f.shoppers_too_short) == (11, 4, 1, 1)
    assert (f.shoppers_evaluated, f.shoppers_tuning, f.repeats) == (2, 2, 0)
    assert "1 shoppers with fewer than 3 interactions filtered" in f.summary()
    test = split.phase("test")
    assert test.shoppers == ["S1", "S2"]
    assert test.history[0] == ["A", "B", "C", "D"]  # train + valid, in time order
    assert test.targets == [["E"], ["C"]]
    valid = split.phase("valid")
    assert valid.history[0] == ["A", "B", "C"] and valid.targets[0] == ["D"]


def test_repeats_keep_the_earliest_so_test_items_are_never_history():
    rows = [("S1", "A", 1), ("S1", "B", 2), ("S1", "C", 3), ("S1", "A", 4)]
    split = split_interactions(log(rows), "loo", POOL)
    assert split.filter.repeats == 1
    assert parts(split, "S1") == {"train": ["A"], "valid": ["B"], "test": ["C"]}


def test_random_split_is_seeded_deterministic_and_80_10_10():
    rows = [(f"S{u}", sku, t) for u in range(20) for t, sku in enumerate("ABCDEFGHIJ")]
    pool = set("ABCDEFGHIJ")
    a = split_interactions(log(rows), "random", pool, seed=5)
    b = split_interactions(log(rows), "random", pool, seed=5)
    c = split_interactions(log(rows), "random", pool, seed=6)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not a.frame["part"].equals(c.frame["part"])
    assert a.counts() == {"train": 160, "valid": 20, "test": 20}
    for shopper in ("S0", "S7"):
        p = parts(a, shopper)
        assert (len(p["train"]), len(p["valid"]), len(p["test"])) == (8, 1, 1)
        assert not set(p["test"]) & set(p["train"] + p["valid"])
    assert len({tuple(parts(a, f"S{u}")["test"]) for u in range(20)}) > 1  # not the same item for everybody


def test_temporal_global_cut_and_cold_shoppers():
    rows = [("S1", sku, t) for t, sku in enumerate("ABCDEFGH")] + [("S2", "A", 8), ("S2", "B", 9), ("S2", "C", 10)]
    pool = set("ABCDEFGH")
    split = split_interactions(log(rows), "temporal", pool, min_interactions=3)
    # 11 times 0..10: valid from the 80% quantile (time 8), test from the 90% quantile (time 9)
    assert parts(split, "S1") == {"train": list("ABCDEFGH"), "valid": [], "test": []}
    assert parts(split, "S2") == {"train": [], "valid": ["A"], "test": ["B", "C"]}
    assert split.phase("test").shoppers == ["S2"]  # S2's history before the test cut is its valid item
    rows_cold = [("S1", sku, t) for t, sku in enumerate("ABCDEFGH")] + [
        ("S2", "A", 20), ("S2", "B", 21), ("S2", "C", 22),  # history before the cut: evaluated
        ("S3", "D", 23), ("S3", "E", 24),  # everything after the cut: cold, reported, not evaluated
        ("S4", "A", 30)]  # one interaction: too short
    cold = split_interactions(log(rows_cold), "temporal", pool, min_interactions=2)
    assert parts(cold, "S3")["test"] == ["D", "E"]
    f = cold.filter
    assert (f.shoppers_too_short, f.shoppers_cold, f.shoppers_evaluated) == (1, 1, 1)
    assert "1 without history before their test items" in f.summary()


def test_given_split_needs_labels_and_bad_inputs_are_explained():
    with pytest.raises(EvaluationError, match="needs a file with its own"):
        split_interactions(log(ROWS), "given", POOL)
    with pytest.raises(EvaluationError, match="unknown split 'weekly'"):
        split_interactions(log(ROWS), "weekly", POOL)
    with pytest.raises(EvaluationError, match="no shopper has 3"):
        split_interactions(log(ROWS), "loo", {"Z"})
    labelled = from_frame(pd.DataFrame({"shopper_id": ["U"] * 3, "sku": ["A", "B", "C"], "timestamp": [3, 2, 1],
                                        "label": ["train", "valid", "test"]}), "mmrec")
    split = split_interactions(labelled, "given", POOL)
    assert parts(split, "U") == {"train": ["A"], "valid": ["B"], "test": ["C"]}
