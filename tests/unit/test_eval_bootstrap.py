"""Bootstrap intervals: contain the mean, deterministic per seed, and the paired test finds a real winner."""

import numpy as np
import pytest

from core.evaluation.bootstrap import bootstrap_ci, paired_bootstrap


def test_interval_contains_the_mean_and_is_deterministic_per_seed():
    values = np.random.default_rng(7).random(200)
    est = bootstrap_ci(values, seed=3)
    assert est.lo <= est.mean <= est.hi
    assert est.mean == pytest.approx(values.mean())
    assert est.n == 200
    assert est.cell() == f"{est.text()} n=200"  # every table cell carries its n
    assert bootstrap_ci(values, seed=3) == est
    assert bootstrap_ci(values, seed=4) != est
    # a 95% interval of a mean of 200 uniforms is roughly ±0.04 wide
    assert 0.02 < (est.hi - est.lo) / 2 < 0.06


def test_constant_and_empty_values():
    est = bootstrap_ci(np.ones(10), seed=0)
    assert (est.mean, est.lo, est.hi) == (1.0, 1.0, 1.0)
    assert np.isnan(bootstrap_ci(np.array([]), seed=0).mean)


def test_paired_bootstrap_detects_a_clearly_better_method():
    rng = np.random.default_rng(1)
    difficulty = rng.random(150)  # shared per-shopper difficulty, cancelled by pairing
    a = np.clip(difficulty + 0.1 + rng.normal(0, 0.02, 150), 0, 2)
    b = difficulty
    result = paired_bootstrap(a, b, names=("good", "base"), metric="ndcg@10", seed=0)
    assert result.verdict == "a"
    assert 0.08 < result.diff.lo < result.diff.mean < result.diff.hi < 0.12
    assert result.diff.mean == pytest.approx((a - b).mean())
    assert result.sentence().startswith(f"good beats base on NDCG@10 by {(a - b).mean():.3f} (95% CI [+")
    flipped = paired_bootstrap(b, a, names=("base", "good"), metric="ndcg@10", seed=0)
    assert flipped.verdict == "b"
    assert flipped.sentence().startswith(f"good beats base on NDCG@10 by {(a - b).mean():.3f} (95% CI [+0.0")


def test_paired_bootstrap_reports_no_difference_for_equal_methods():
    rng = np.random.default_rng(2)
    a = rng.random(100)
    noise = rng.normal(0, 0.05, 50)
    b = a + np.concatenate([noise, -noise])  # differences average exactly zero
    result = paired_bootstrap(a, b, names=("A", "B"), metric="recall@10", seed=0)
    assert result.verdict == "tie"
    assert result.diff.lo < 0 < result.diff.hi
    assert "No clear difference between A and B on Recall@10" in result.sentence()
    items = paired_bootstrap(a, b, names=("A", "B"), metric="precision@10", seed=0, unit="query items")
    assert "n = 100 query items" in items.sentence() and "Precision@10" in items.sentence()
    with pytest.raises(ValueError):
        paired_bootstrap(a, b[:-1], names=("A", "B"), metric="recall@10", seed=0)
