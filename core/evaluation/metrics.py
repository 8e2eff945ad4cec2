"""Ranking metrics over full candidate rankings: Recall@K, Precision@K, NDCG@K, MAP@K, HitRate@K, MRR, coverage@K.

Conventions (tested against hand-computed cases in tests/unit/test_eval_metrics.py):
- Ranks are 1-based among the shopper's candidates: the pool minus their history (history never ranks).
- Ties: scores equal to TIE_DECIMALS places keep column order (a stable sort), so whoever orders the
  columns decides ties. The protocol orders the pool by a seeded random permutation shared by every
  representation, so ties are broken at random, identically for all methods, and reproducibly per seed.
  Rounding first matters: BLAS computes two identical item rows with different kernels depending on their
  position and the thread count, so exact ties would otherwise be decided by last-bit float noise.
- Recall@K = hits in the top K / number of test items; Precision@K = hits in the top K / K (always K, even when
  the shopper has fewer test items or candidates); HitRate@K = 1 if any hit; NDCG@K uses binary gains with the
  ideal DCG of min(#test items, K) hits; MAP@K = mean over shoppers of AP@K = (1 / min(#test items, K)) ·
  Σ over hits at rank r ≤ K of (hits at ranks ≤ r) / r; MRR = 1 / rank of the best-ranked test item over the
  full ranking (no cut-off). K larger than the candidate list simply counts every candidate.
- Coverage@K = distinct pool items appearing in any shopper's top K / pool size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PER_USER = ("recall", "precision", "ndcg", "map", "hitrate")
TIE_DECIMALS = 9  # scores closer than this are the same score (float64 scoring noise is ~1e-16)
LABELS = {"recall": "Recall", "precision": "Precision", "ndcg": "NDCG", "map": "MAP", "hitrate": "HitRate",
          "mrr": "MRR", "coverage": "Coverage"}


def metric_names(ks: Sequence[int]) -> list[str]:
    """Column order used everywhere: per-user metrics for each K, then MRR, then coverage per K."""
    return [f"{m}@{k}" for k in ks for m in PER_USER] + ["mrr"] + [f"coverage@{k}" for k in ks]


def metric_label(name: str) -> str:
    """'ndcg@10' -> 'NDCG@10' for tables and sentences."""
    base, _, k = name.partition("@")
    return LABELS.get(base, base) + (f"@{k}" if k else "")


def _flat(lists: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Row ids and column ids of a ragged per-row list of column indices."""
    sizes = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists)), sizes)
    cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(lists) else np.zeros(0, np.int64)
    return rows, cols


def rank_order(scores: np.ndarray, exclude: Sequence[np.ndarray]) -> np.ndarray:
    """Columns per row, best first; ties (equal to TIE_DECIMALS places) keep column order; excluded last."""
    keys = -np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)
    if not np.isfinite(keys).all():
        raise ValueError("scores must be finite")
    rows, cols = _flat(exclude)
    keys[rows, cols] = np.inf
    return np.argsort(keys, axis=1, kind="stable")


def target_ranks(order: np.ndarray, targets: Sequence[np.ndarray], n_candidates: np.ndarray) -> list[np.ndarray]:
    """1-based rank of each target column in its row's order; a target among the excluded is an error."""
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), axis=1)
    rows, cols = _flat(targets)
    ranks = position[rows, cols] + 1
    if (ranks > n_candidates[rows]).any():
        raise ValueError("a target item is also in the excluded history")
    return np.split(ranks, np.cumsum([len(t) for t in targets])[:-1])


def user_metrics(ranks: Sequence[np.ndarray], ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-shopper Recall/Precision/NDCG/MAP/HitRate@K and MRR from the targets' 1-based ranks."""
    rows, r = _flat(ranks)
    n = np.fromiter((len(x) for x in ranks), dtype=np.int64, count=len(ranks))
    if (n == 0).any():
        raise ValueError("every shopper needs at least one test item")
    users = len(ranks)
    order = np.lexsort((r, rows))  # each shopper's ranks, best first
    rows, r = rows[order], r[order]
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    found = np.arange(len(r)) - np.repeat(starts, n) + 1  # test items ranked at or above this one (ranks distinct)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        hit = r <= k
        hits = np.bincount(rows, weights=hit, minlength=users)
        dcg = np.bincount(rows, weights=hit / np.log2(r + 1.0), minlength=users)
        ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.minimum(n, k) - 1]
        out[f"recall@{k}"] = hits / n
        out[f"precision@{k}"] = hits / k
        out[f"ndcg@{k}"] = dcg / ideal
        out[f"map@{k}"] = np.bincount(rows, weights=hit * found / r, minlength=users) / np.minimum(n, k)
        out[f"hitrate@{k}"] = (hits > 0).astype(float)
    best = np.full(users, np.iinfo(np.int64).max)
    np.minimum.at(best, rows, r)
    out["mrr"] = 1.0 / best
    return out


def covered_items(order: np.ndarray, n_candidates: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask over columns: which items appear in some row's top k (excluded columns never count)."""
    top = order[:, :k]
    real = np.arange(top.shape[1])[None, :] < n_candidates[:, None]
    mask = np.zeros(order.shape[1], dtype=bool)
    mask[top[real]] = True
    return mask
