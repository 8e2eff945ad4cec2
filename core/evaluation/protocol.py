"""evaluate(): every compared method ranks the same candidate pool for the same shoppers, history excluded.

Order of work: resolve the methods ("all" = full-coverage ones only, see baselines.evaluation_choices); load
their vectors; the pool = SKUs with vectors in every compared representation, ordered by a seeded permutation
(that order breaks score ties, identically for all); refuse a pool below `min_pool_items`; split the log
within the pool; refuse fewer than `min_shoppers` evaluated shoppers; tune weighted fusions on the validation
phase; rank the test phase for each method; bootstrap every per-shopper mean. All randomness comes from
`seed` through fixed streams: [seed, 1] split, [seed, 2] tie order, [seed, 3] random baseline, [seed, 4]
bootstrap, [seed, 5] the permutation test behind verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.catalog.interactions import Interactions
from core.catalog.store import now_iso
from core.errors import EvaluationError
from core.evaluation.baselines import (
    POPULARITY,
    RANDOM,
    WEIGHT_GRID,
    Popularity,
    RandomScores,
    ScoreFusion,
    Scorer,
    Spec,
    VectorScorer,
    concat_matrix,
    default_specs,
    parse_specs,
    pool_matrix,
    stored_names,
)
from core.evaluation.bootstrap import MIN_VERDICT_SHOPPERS, N_RESAMPLES, bootstrap_ci
from core.evaluation.coverage import Coverage, catalogue_coverage
from core.evaluation.metrics import (
    TIE_DECIMALS,
    covered_items,
    metric_names,
    rank_order,
    target_ranks,
    user_metrics,
)
from core.evaluation.result import Evaluation
from core.evaluation.splits import Phase, split_interactions
from core.lab import Lab
from core.models import Progress
from core.represent.recommend import Matrix, load_matrix

DEFAULT_KS = (5, 10, 20)
BATCH_CELLS = 2_000_000  # shoppers × pool scores ranked at once (a few arrays of this size live together)
SEED_STREAMS = {"split": 1, "tie_order": 2, "random_baseline": 3, "bootstrap": 4, "permutation": 5}
MIN_POOL_ITEMS = 50
"""Smallest candidate pool compared: below it K = 10 or 20 ranks a large share of every shopper's candidates, so
every method, random included, "finds" the held-out items (9 SKUs gave Recall@10 = 1.000 for all)."""
MIN_SHOPPERS = 20
"""Fewest evaluated shoppers compared: below it one shopper moves a mean of 0/1 hits by 5 points or more."""
TIE_RULE = (f"scores equal to {TIE_DECIMALS} decimals are ties, broken by a seeded random order of the pool "
            "(numpy PCG64 stream [seed, 2]), the same order for every method")


def evaluate(lab: Lab, interactions: Interactions, *, split: str = "loo",
             representations: str | Sequence[str] = "all", ks: Sequence[int] = DEFAULT_KS, seed: int = 0,
             min_interactions: int = 3, n_resamples: int = N_RESAMPLES, min_pool_items: int = MIN_POOL_ITEMS,
             min_shoppers: int = MIN_SHOPPERS, min_verdict_shoppers: int = MIN_VERDICT_SHOPPERS,
             progress: Progress | None = None) -> Evaluation:
    """Compare methods fairly on one interaction log; see the module docstring for the protocol.

    The floors default to the documented MIN_POOL_ITEMS, MIN_SHOPPERS and MIN_VERDICT_SHOPPERS (EVALUATION.md);
    lower them only on purpose (tests on tiny fixtures): the result records the floors it ran under.
    """
    started = time.perf_counter()
    ks = _check_ks(ks)
    specs = parse_specs(default_specs(lab) if representations == "all" else list(representations))
    matrices = {name: load_matrix(lab, name) for name in stored_names(specs)}
    cov = catalogue_coverage(lab)
    coverage = [cov.of(name) for name in matrices]
    excluded = [c for c in cov.all() if not c.full and c.name not in matrices]
    pool = _pool(lab, {name: cov.skus[name] for name in matrices}, interactions, seed)
    _check_pool(len(pool), len(cov.catalogue), [c for c in coverage if not c.full], min_pool_items)
    cut = split_interactions(interactions, split, pool, seed=seed, min_interactions=min_interactions)
    if cut.filter.shoppers_evaluated < min_shoppers:
        raise EvaluationError(
            f"only {cut.filter.shoppers_evaluated} shoppers can be evaluated ({cut.filter.summary()}); comparing "
            f"methods needs at least {min_shoppers} (MIN_SHOPPERS): with fewer, one shopper moves a mean by 5 "
            "points or more. Use a longer interaction log or a split that keeps more shoppers.")
    pooled = {name: pool_matrix(m, pool) for name, m in matrices.items()}
    index = {sku: i for i, sku in enumerate(pool)}
    train = cut.frame.loc[cut.frame["part"] == "train", "sku"].map(index)
    counts = np.bincount(train.to_numpy(dtype=np.int64), minlength=len(pool))
    test, valid = cut.phase("test"), cut.phase("valid")
    steps = len(specs) + sum(s.kind == "weighted" for s in specs)
    done = 0
    tuning: dict[str, dict] = {}
    per_method: dict[str, dict[str, np.ndarray]] = {}
    for spec in specs:
        weight = None
        if spec.kind == "weighted":
            _tick(progress, done, steps, f"tuning {spec.name} on validation")
            weight, tuning[spec.name] = _tune(spec, pooled, valid, index, ks)
            done += 1
        _tick(progress, done, steps, spec.name)
        per_method[spec.name] = _run(_scorer(spec, pooled, counts, seed, weight), test, index, ks)
        done += 1
    _tick(progress, steps, steps, "bootstrap")
    methods = [s.name for s in specs]
    per_user = _per_user(lab, interactions, test, per_method, ks)
    config = {
        "split": split, "seed": seed, "seed_streams": SEED_STREAMS, "ks": list(ks), "methods": methods,
        "min_interactions": min_interactions, "n_resamples": n_resamples, "confidence": 0.95,
        "floors": {"min_pool_items": min_pool_items, "min_shoppers": min_shoppers,
                   "min_verdict_shoppers": min_verdict_shoppers},
        "tie_rule": TIE_RULE, "source": interactions.source, "workspace": str(lab.workspace.root),
        "test_history": "train + valid items (all excluded from the ranking)",
        "created_at": now_iso(),
    }
    evaluation = Evaluation(
        config=config, pool_size=len(pool), representation_sizes={n: len(m.skus) for n, m in matrices.items()},
        catalogue_size=len(cov.catalogue) or len(pool), coverage=coverage, excluded=excluded, filter=cut.filter,
        parts=cut.counts(), methods=methods, metrics=metric_names(ks), per_user=per_user,
        summary=_summary(per_method, methods, ks, len(test), seed, n_resamples), tuning=tuning)
    evaluation.config["elapsed_s"] = round(time.perf_counter() - started, 2)
    return evaluation


def _tick(progress: Progress | None, done: int, total: int, label: str) -> None:
    if progress:
        progress(done, total, label)


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    ks = tuple(sorted(set(int(k) for k in ks)))
    if not ks or ks[0] < 1:
        raise EvaluationError("cut-offs K must be positive integers, e.g. 5,10,20")
    return ks


def _pool(lab: Lab, fresh: dict[str, set[str]], interactions: Interactions, seed: int) -> list[str]:
    """SKUs with fresh vectors in every compared representation (or the catalogue / logged SKUs when none has
    vectors), in a seeded random order that decides ties."""
    if fresh:
        skus = set.intersection(*fresh.values())
        if not skus:
            raise EvaluationError(f"{', '.join(fresh)} share no SKU with fresh vectors: nothing to rank")
    else:
        skus = set(lab.store.items()["sku"]) if lab.store.item_count() else set(interactions.frame["sku"])
    ordered = sorted(skus)
    return [ordered[i] for i in np.random.default_rng([seed, SEED_STREAMS["tie_order"]]).permutation(len(ordered))]


def _check_pool(pool: int, catalogue: int, limited_by: list[Coverage], floor: int) -> None:
    """Refuse to compare on a pool below the floor, naming the representations that shrank it."""
    if pool >= floor:
        return
    where = f" (of {catalogue:,} in the catalogue)" if catalogue else ""
    limited = f", limited by {'; '.join(c.text() for c in limited_by)}" if limited_by else ""
    fix = (f"Describe the rest of the catalogue with {' and '.join(c.name for c in limited_by)}, or leave "
           f"{'it' if len(limited_by) == 1 else 'them'} out." if limited_by else "Add items to the catalogue.")
    raise EvaluationError(
        f"the candidate pool has {pool:,} SKUs{where}{limited}; comparing methods needs at least {floor} "
        f"(MIN_POOL_ITEMS): on a smaller pool K = 10 or 20 covers most candidates and every method, random "
        f"included, finds the held-out items. {fix}")


def _scorer(spec: Spec, pooled: dict[str, Matrix], counts: np.ndarray, seed: int, weight: float | None) -> Scorer:
    if spec.kind == RANDOM:
        return RandomScores(len(counts), seed)
    if spec.kind == POPULARITY:
        return Popularity(counts)
    if spec.kind == "stored":
        return VectorScorer(pooled[spec.parts[0]])
    a, b = (pooled[p] for p in spec.parts)
    if spec.kind == "concat":
        return VectorScorer(concat_matrix(a, b))
    return ScoreFusion(VectorScorer(a), VectorScorer(b), 0.5 if spec.kind == "mean" or weight is None else weight)


def _tune(spec: Spec, pooled: dict[str, Matrix], valid: Phase, index: dict[str, int],
          ks: tuple[int, ...]) -> tuple[float, dict]:
    """Pick w on the validation phase only (history = train, targets = valid); test items are never seen.

    Best mean NDCG@10 (or @K for the first K when 10 is not asked for); ties go to the weight nearest 0.5.
    """
    k = 10 if 10 in ks else ks[0]
    if not len(valid):
        return 0.5, {"weight": 0.5, "metric": f"ndcg@{k}", "grid": {},
                     "note": "no shopper has validation items: weight fixed at 0.5"}
    a, b = VectorScorer(pooled[spec.parts[0]]), VectorScorer(pooled[spec.parts[1]])
    grid = {w: float(_run(ScoreFusion(a, b, w), valid, index, (k,))[f"ndcg@{k}"].mean()) for w in WEIGHT_GRID}
    best = max(grid, key=lambda w: (round(grid[w], 12), -abs(w - 0.5), -w))
    return best, {"weight": best, "metric": f"ndcg@{k}", "validation_shoppers": len(valid),
                  "grid": {str(w): round(v, 6) for w, v in grid.items()}}


def _run(scorer: Scorer, phase: Phase, index: dict[str, int], ks: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Per-shopper metrics (plus `coverage@K` scalars as 0-d arrays) for one method on one phase."""
    n = len(index)
    history = [np.fromiter((index[s] for s in h), dtype=np.int64, count=len(h)) for h in phase.history]
    targets = [np.fromiter((index[s] for s in t), dtype=np.int64, count=len(t)) for t in phase.targets]
    candidates = n - np.array([len(h) for h in history], dtype=np.int64)
    covered = {k: np.zeros(n, dtype=bool) for k in ks}
    ranks: list[np.ndarray] = []
    batch = max(1, BATCH_CELLS // max(n, 1))
    for start in range(0, len(phase), batch):
        part = slice(start, start + batch)
        order = rank_order(scorer.scores(phase.history[part]), history[part])
        ranks += target_ranks(order, targets[part], candidates[part])
        for k in ks:
            covered[k] |= covered_items(order, candidates[part], k)
    out = user_metrics(ranks, ks)
    out.update({f"coverage@{k}": np.asarray(covered[k].mean()) for k in ks})
    return out


def _categories(lab: Lab, interactions: Interactions) -> dict[str, str]:
    """SKU -> category from the workspace catalogue, falling back to the importer's item metadata."""
    cats = dict(zip(interactions.items["sku"], interactions.items["category"], strict=True))
    if lab.store.item_count():
        items = lab.store.items()
        cats.update(zip(items["sku"], items["category"], strict=True))
    return cats


def _per_user(lab: Lab, interactions: Interactions, test: Phase, per_method: dict[str, dict[str, np.ndarray]],
              ks: tuple[int, ...]) -> pd.DataFrame:
    """Long table: one row per (method, shopper) with the shopper's test items and main category."""
    cats = _categories(lab, interactions)

    def main_category(skus: list[str]) -> str:
        counts = pd.Series([cats.get(s) or "unknown" for s in skus]).value_counts()
        return sorted(counts[counts == counts.max()].index)[0]  # most frequent; ties alphabetical

    info = pd.DataFrame({"shopper_id": test.shoppers, "category": [main_category(t) for t in test.targets],
                         "test_skus": [" ".join(t) for t in test.targets], "n_test": [len(t) for t in test.targets]})
    columns = [m for m in metric_names(ks) if not m.startswith("coverage")]
    frames = [info.assign(method=name, **{c: values[c] for c in columns}) for name, values in per_method.items()]
    return pd.concat(frames, ignore_index=True)[["method", *info.columns, *columns]]


def _summary(per_method: dict[str, dict[str, np.ndarray]], methods: list[str], ks: tuple[int, ...], users: int,
             seed: int, n_resamples: int) -> pd.DataFrame:
    rows = []
    for name in methods:
        for metric in metric_names(ks):
            values = per_method[name][metric]
            if metric.startswith("coverage"):
                rows.append({"method": name, "metric": metric, "mean": float(values), "lo": np.nan, "hi": np.nan,
                             "n": users})
            else:
                rows.append({"method": name, "metric": metric,
                             **bootstrap_ci(values, seed=seed, n_resamples=n_resamples).as_dict()})
    return pd.DataFrame(rows)
