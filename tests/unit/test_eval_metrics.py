"""Ranking metrics against hand-computed values (ties, several test items, K beyond the candidate list)."""

import math

import numpy as np
import pytest

from core.evaluation.metrics import covered_items, metric_label, metric_names, rank_order, target_ranks, user_metrics


def ranks_for(scores, exclude, targets):
    scores = np.asarray(scores, dtype=float)
    exclude = [np.asarray(e, dtype=int) for e in exclude]
    order = rank_order(scores, exclude)
    candidates = scores.shape[1] - np.array([len(e) for e in exclude])
    return [r.tolist() for r in target_ranks(order, [np.asarray(t) for t in targets], candidates)]


def test_single_target_rank_and_metrics():
    # scores: col0 .9, col2 .7, col1 .5, col3 .1 -> target col2 is 2nd
    assert ranks_for([[0.9, 0.5, 0.7, 0.1]], [[]], [[2]]) == [[2]]
    m = user_metrics([np.array([2])], [1, 2, 5])
    assert m["hitrate@1"][0] == 0 and m["recall@1"][0] == 0 and m["ndcg@1"][0] == 0
    assert m["hitrate@2"][0] == 1 and m["recall@2"][0] == 1
    assert m["ndcg@2"][0] == pytest.approx(1 / math.log2(3))  # 0.6309: gain 1 at rank 2, ideal 1 at rank 1
    assert m["mrr"][0] == pytest.approx(0.5)


def test_ties_keep_column_order():
    # three equal scores: the earlier column ranks first, so col1 is 2nd and col0 is 1st
    assert ranks_for([[0.5, 0.5, 0.5]], [[]], [[1]]) == [[2]]
    assert ranks_for([[0.5, 0.5, 0.5]], [[]], [[0]]) == [[1]]
    # a tie with a higher-scored item ahead: col3 (0.4) ties col1 (0.4), behind col0 (0.9) -> ranks 2 and 3
    assert ranks_for([[0.9, 0.4, 0.1, 0.4]], [[]], [[3]]) == [[3]]


def test_float_noise_does_not_decide_ties():
    # identical items whose scores differ only in the last bits (BLAS kernel noise) are a tie: column order wins
    assert ranks_for([[0.5, 0.5 + 1e-13, 0.1]], [[]], [[1]]) == [[2]]
    assert ranks_for([[0.5 + 1e-13, 0.5, 0.1]], [[]], [[1]]) == [[2]]
    assert ranks_for([[0.5, 0.5 + 1e-6, 0.1]], [[]], [[1]]) == [[1]]  # a real difference still counts


def test_history_is_excluded_from_ranking():
    # col0 is history: the target col2 moves from 3rd to 2nd, and only 2 candidates remain
    assert ranks_for([[0.9, 0.8, 0.1]], [[0]], [[2]]) == [[2]]
    with pytest.raises(ValueError, match="excluded"):
        ranks_for([[0.9, 0.8, 0.1]], [[2]], [[2]])


def test_several_test_items_per_user():
    m = user_metrics([np.array([1, 3])], [2, 3])
    # K=2: one of two test items hit -> recall 0.5; DCG = 1/log2(2) = 1; IDCG = 1 + 1/log2(3)
    assert m["recall@2"][0] == pytest.approx(0.5)
    assert m["hitrate@2"][0] == 1
    assert m["ndcg@2"][0] == pytest.approx(1 / (1 + 1 / math.log2(3)))  # 0.6131
    # K=3: both hit; DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309
    assert m["ndcg@3"][0] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))  # 0.9197
    assert m["recall@3"][0] == 1
    assert m["mrr"][0] == 1


def test_k_larger_than_the_pool():
    # 4 items, 1 in history -> 3 candidates; targets at ranks 2 and 3; K = 20 counts every candidate
    ranks = ranks_for([[0.1, 0.9, 0.5, 0.3]], [[1]], [[3, 0]])
    assert ranks == [[2, 3]]
    m = user_metrics([np.array(ranks[0])], [20])
    assert m["recall@20"][0] == 1 and m["hitrate@20"][0] == 1
    # DCG = 1/log2(3) + 1/log2(4) = 0.6309 + 0.5; IDCG (2 items) = 1 + 0.6309
    assert m["ndcg@20"][0] == pytest.approx((1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3)))  # 0.6934
    assert m["mrr"][0] == pytest.approx(0.5)


def test_several_users_at_once_and_coverage():
    scores = np.array([[0.9, 0.8, 0.1, 0.2],
                       [0.1, 0.2, 0.9, 0.8]])
    exclude = [np.array([0]), np.array([], dtype=int)]
    order = rank_order(scores, exclude)
    assert order[0].tolist() == [1, 3, 2, 0]  # excluded col0 goes last
    candidates = np.array([3, 4])
    assert [r.tolist() for r in target_ranks(order, [np.array([2]), np.array([3, 0])], candidates)] == [[3], [2, 4]]
    # top-1 lists {1} and {2} -> 2 of 4 items covered; top-4 of user 0 stops at its 3 candidates
    assert covered_items(order, candidates, 1).tolist() == [False, True, True, False]
    assert covered_items(order[:1], candidates[:1], 4).tolist() == [False, True, True, True]
    m = user_metrics([np.array([3]), np.array([2, 4])], [2])
    assert m["recall@2"].tolist() == [0.0, 0.5]
    assert m["mrr"].tolist() == pytest.approx([1 / 3, 1 / 2])


def test_precision_and_map_by_hand():
    # shopper 0: test items at ranks 1, 3, 6; shopper 1: one test item at rank 2; shopper 2: ranks 4 and 5
    m = user_metrics([np.array([6, 1, 3]), np.array([2]), np.array([5, 4])], [1, 3, 5])
    # Precision@K = hits in the top K / K
    assert m["precision@1"].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert m["precision@3"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert m["precision@5"].tolist() == pytest.approx([2 / 5, 1 / 5, 2 / 5])
    # AP@K = (1 / min(#test, K)) * sum over hits at rank r <= K of (hits at ranks <= r) / r
    # shopper 0, K = 3: hits at 1 (1/1) and 3 (2/3); normaliser min(3, 3) = 3 -> (1 + 2/3) / 3 = 0.5556
    # shopper 0, K = 1: hit at 1 (1/1); normaliser min(3, 1) = 1 -> 1.0; K = 5: same hits, normaliser 3
    assert m["map@1"].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert m["map@3"][0] == pytest.approx((1 + 2 / 3) / 3)
    assert m["map@5"][0] == pytest.approx((1 + 2 / 3) / 3)
    # shopper 1: one item at rank 2 -> (1/2) / 1 once K >= 2
    assert m["map@3"][1] == pytest.approx(0.5) and m["map@5"][1] == pytest.approx(0.5)
    # shopper 2: hits at 4 (1/4) and 5 (2/5), normaliser min(2, 5) = 2 -> (0.25 + 0.4) / 2 = 0.325
    assert m["map@3"][2] == 0 and m["map@5"][2] == pytest.approx((1 / 4 + 2 / 5) / 2)
    # the mean over shoppers is MAP@5
    assert m["map@5"].mean() == pytest.approx(((1 + 2 / 3) / 3 + 0.5 + 0.325) / 3)


def test_precision_keeps_k_as_denominator_beyond_the_candidate_list():
    # 3 candidates, every one a test item, K = 20: Precision@20 = 3 / 20, AP@20 = 1 (normaliser min(3, 20) = 3)
    m = user_metrics([np.array([1, 2, 3])], [20])
    assert m["precision@20"][0] == pytest.approx(3 / 20) and m["map@20"][0] == pytest.approx(1.0)


def test_names_and_labels():
    assert metric_names([5, 10]) == ["recall@5", "precision@5", "ndcg@5", "map@5", "hitrate@5", "recall@10",
                                     "precision@10", "ndcg@10", "map@10", "hitrate@10", "mrr", "coverage@5",
                                     "coverage@10"]
    assert metric_label("ndcg@10") == "NDCG@10" and metric_label("mrr") == "MRR"
    assert metric_label("map@10") == "MAP@10" and metric_label("precision@5") == "Precision@5"


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        rank_order(np.array([[np.nan, 1.0]]), [np.array([], dtype=int)])
