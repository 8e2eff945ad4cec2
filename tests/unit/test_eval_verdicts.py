"""Verdicts that hold: the permutation p-value, Holm–Bonferroni across a family, the shopper floor, the sentences."""

import numpy as np
import pytest

from core.evaluation.bootstrap import (
    ALPHA,
    MIN_VERDICT_SHOPPERS,
    Estimate,
    Paired,
    corrected,
    holm,
    paired_bootstrap,
    sign_flip_p,
)


def test_holm_by_hand():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.02]) == pytest.approx([0.02])  # a family of one is uncorrected
    assert holm([]) == []


def test_sign_flip_p_by_hand():
    # 3 shoppers, differences +1, +1, +1: of the 8 equally likely sign patterns, 2 reach |sum| = 3 -> exact p = 1/4
    assert sign_flip_p(np.ones(3), seed=0, permutations=20_000) == pytest.approx(0.25, abs=0.01)
    # +2, -1, +1 (sum 2): flipped sums 2s1 - s2 + s3 are 2, 0, 4, 2, -2, -4, 0, -2 -> 6 of 8 reach |2|: p = 3/4
    assert sign_flip_p(np.array([2.0, -1, 1]), seed=0, permutations=20_000) == pytest.approx(0.75, abs=0.01)
    assert sign_flip_p(np.zeros(10), seed=0) == 1.0 and sign_flip_p(np.array([]), seed=0) == 1.0
    # one shopper: the flip always reproduces |difference|, so p = 1 (the observed "+0.562, n = 1" case)
    assert sign_flip_p(np.array([0.562]), seed=0) == 1.0
    # a large consistent effect reaches the smallest p the permutations allow: 1 / (1 + permutations)
    assert sign_flip_p(np.full(40, 0.3), seed=0, permutations=999) == pytest.approx(1 / 1000)
    assert sign_flip_p(np.ones(5), seed=1) == sign_flip_p(np.ones(5), seed=1)  # seeded


def test_equal_methods_are_declared_different_at_most_alpha_of_the_time():
    """At the verdict floor and above, comparisons of two equally good methods stay near the promised 5%."""
    rng = np.random.default_rng(7)
    for n in (MIN_VERDICT_SHOPPERS, 100):
        wins = 0
        for trial in range(300):
            a, b = ((rng.random(n) < 0.2) / np.log2(rng.integers(1, 11, n) + 1) for _ in range(2))
            wins += paired_bootstrap(a, b, names=("A", "B"), metric="ndcg@10", seed=trial, n_resamples=200,
                                     permutations=2000).verdict in ("a", "b")
        assert wins / 300 <= 0.07, (n, wins / 300)


def test_the_shopper_floor_withholds_the_verdict_with_the_reason():
    rng = np.random.default_rng(3)
    a = rng.random(29) + 0.5
    b = rng.random(29)
    small = paired_bootstrap(a, b, names=("A", "B"), metric="ndcg@10", seed=0)
    assert small.verdict == "insufficient" and small.p_value < 0.001
    assert small.sentence().startswith("No verdict on A vs B on NDCG@10: too few shoppers for a verdict "
                                       "(n = 29 < 30); A − B = +")
    assert "n = 29 shoppers" in small.sentence()
    enough = paired_bootstrap(np.append(a, 1.0), np.append(b, 0.0), names=("A", "B"), metric="ndcg@10", seed=0)
    assert enough.verdict == "a"
    assert enough.sentence().startswith("A beats B on NDCG@10 by ")
    assert "n = 30 shoppers; p = 0.0001, a single comparison)." in enough.sentence()
    lowered = paired_bootstrap(a, b, names=("A", "B"), metric="ndcg@10", seed=0, min_n=10)
    assert lowered.verdict == "a"


def _paired(name: str, p: float, mean: float = 0.02, n: int = 300) -> Paired:
    return Paired("A", name, "ndcg@10", Estimate(mean, mean - 0.01, mean + 0.01, n), p)


def test_holm_withholds_a_win_that_only_holds_alone():
    family = corrected([_paired("B", 0.02), *(_paired(f"C{i}", 0.5, 0.0) for i in range(5))])
    alone = _paired("B", 0.02)
    assert alone.verdict == "a" and alone.p_holm == 0.02
    first = family[0]
    assert first.family_size == 6 and first.p_holm == pytest.approx(0.12) and first.verdict == "tie"
    assert first.sentence() == (
        "No clear difference between A and B on NDCG@10: A − B = +0.020 (95% CI [+0.010, +0.030], n = 300 shoppers); "
        "not significant after Holm correction across 6 comparisons (p = 0.0200, Holm-adjusted p = 0.1200).")
    strong = corrected([_paired("B", 0.001), _paired("C", 0.02, -0.03), _paired("D", 0.4, 0.0)])
    assert [p.verdict for p in strong] == ["a", "b", "tie"]  # 0.003 and 0.04 survive, 0.4 does not
    assert strong[1].sentence().startswith("C beats A on NDCG@10 by 0.030 (95% CI [+0.020, +0.040], n = 300 "
                                           "shoppers; p = 0.0200, Holm-adjusted p = 0.0400 across 3 comparisons).")
    assert strong[2].reason.startswith("not significant after Holm correction across 3 comparisons")
    assert strong[0].as_dict()["p_holm"] == pytest.approx(0.003) and strong[0].as_dict()["family_size"] == 3
    assert pytest.approx(0.05) == ALPHA
