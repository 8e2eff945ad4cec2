"""The two defects a merchandiser observed, as regression tests (written against the API they were seen with).

1. Evaluation preselected every representation, 12-item A/B sample runs included, so the candidate pool silently
   became their overlap: "9 SKUs, 7 shoppers", Recall@10 = 1.000 for every method (random included), green tick.
2. "A beats B" was printed for one shopper ("CI [+0.562, +0.562], n = 1"); with 5 shoppers, about 15% of
   comparisons between equal methods were declared wins; paired statements had no multiple-comparison correction.
"""

import numpy as np
import pytest

from core.errors import EvaluationError
from core.evaluation.baselines import default_specs
from core.evaluation.bootstrap import paired_bootstrap
from core.evaluation.protocol import evaluate
from core.evaluation.report import paired_lines
from tests.evaluation_catalogue import grouped_catalogue


def test_1_a_12_item_ab_run_is_not_preselected_and_does_not_shrink_the_pool(lab):
    log = grouped_catalogue(lab, partial={"ab-sample": 12})
    specs = default_specs(lab)
    assert not any("ab-sample" in s for s in specs), f"a 12-of-60-item run is preselected: {specs}"
    ev = evaluate(lab, log, representations=specs, ks=(10,), n_resamples=100)
    assert ev.pool_size == 60 and ev.filter.shoppers_evaluated == 60
    assert ev.estimate("random", "recall@10").mean < 0.5  # 10 of ~56 candidates, not "everything is found"


def test_1_an_explicit_pick_that_shrinks_the_pool_to_12_skus_is_refused(lab):
    log = grouped_catalogue(lab, partial={"ab-sample": 12})
    with pytest.raises(EvaluationError, match=r"candidate pool has 12 SKUs \(of 60 in the catalogue\)"):
        evaluate(lab, log, representations=["random", "good", "ab-sample"], ks=(10,), n_resamples=100)


def test_2_one_shopper_never_yields_a_verdict():
    paired = paired_bootstrap(np.array([0.562]), np.array([0.0]), names=("A", "B"), metric="ndcg@10", seed=0)
    assert paired.verdict not in ("a", "b")
    assert "beats" not in paired.sentence() and "n = 1 shoppers" in paired.sentence()


def test_2_equal_methods_with_five_shoppers_are_not_declared_winners():
    rng = np.random.default_rng(123)
    wins = 0
    for trial in range(400):  # per-shopper NDCG@10 of two equally good methods: a hit (10%) at a random rank
        a, b = ((rng.random(5) < 0.3) / np.log2(rng.integers(1, 11, 5) + 1) for _ in range(2))
        wins += paired_bootstrap(a, b, names=("A", "B"), metric="ndcg@10", seed=trial,
                                 n_resamples=300).verdict in ("a", "b")
    assert wins / 400 <= 0.05, f"{wins / 400:.1%} of comparisons between equal methods declared a winner"


def test_2_paired_lines_of_one_report_are_corrected_together(lab):
    log = grouped_catalogue(lab)
    ev = evaluate(lab, log, representations=["random", "popularity", "good", "bad", "visual"], n_resamples=200)
    lines = paired_lines(ev)
    assert len(lines) == 4
    for line in lines:
        assert "n = 60 shoppers" in line and "Holm" in line and "4 comparisons" in line, line
