"""An evaluation's outcome: per-shopper values, summary with intervals, and the comparisons built on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import EvaluationError
from core.evaluation.bootstrap import (
    ALPHA,
    Estimate,
    Paired,
    bootstrap_ci,
    corrected,
    paired_bootstrap,
)
from core.evaluation.coverage import Coverage
from core.evaluation.splits import FilterReport

VERDICT_LABELS = {"a": "A better", "b": "B better", "tie": "no clear difference", "insufficient": "too few shoppers"}


def comparison_table(family: Sequence[Paired]) -> pd.DataFrame:
    """One row per comparison of a family: B, A − B with its interval and n, p, Holm-adjusted p and the verdict."""
    return pd.DataFrame([{"B": p.b, "A − B": round(p.diff.mean, 4), "95% CI": f"[{p.diff.lo:+.3f}, {p.diff.hi:+.3f}]",
                          "n": p.diff.n, "p": round(p.p_value, 4), "Holm p": round(p.p_holm, 4),
                          "verdict": VERDICT_LABELS[p.verdict]} for p in family],
                        columns=["B", "A − B", "95% CI", "n", "p", "Holm p", "verdict"])


@dataclass
class Evaluation:
    config: dict  # split, seed and its streams, ks, methods, tie rule, source, ...
    pool_size: int
    representation_sizes: dict[str, int]  # vectors per stored representation before pooling
    catalogue_size: int  # catalogue SKUs (the pool is a subset)
    coverage: list[Coverage]  # each compared stored representation's share of the catalogue
    excluded: list[Coverage]  # partial representations with vectors that were not compared
    filter: FilterReport
    parts: dict[str, int]  # train / valid / test interactions after filtering
    methods: list[str]
    metrics: list[str]  # per-shopper metrics then coverage@K
    per_user: pd.DataFrame  # method, shopper_id, category, test_skus, n_test, then one column per metric
    summary: pd.DataFrame  # method, metric, mean, lo, hi, n (coverage has no interval)
    tuning: dict[str, dict] = field(default_factory=dict)  # weighted fusions: chosen weight and the grid
    report_paths: list[str] = field(default_factory=list)
    _families: dict = field(default_factory=dict, repr=False, compare=False)  # memo: (pairs, metric) -> family

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def primary_metric(self) -> str:
        ks = self.config["ks"]
        return f"ndcg@{10 if 10 in ks else ks[0]}"

    @property
    def limited_by(self) -> list[Coverage]:
        """Compared representations that do not cover the catalogue: they shrank the pool."""
        return [c for c in self.coverage if not c.full]

    def pool_note(self) -> str:
        """The pool against the catalogue, naming what limited it; shown before any number."""
        note = (f"Candidate pool: {self.pool_size:,} of {self.catalogue_size:,} catalogue SKUs, identical for every "
                "method")
        if self.limited_by:
            return (f"{note} — limited by {'; '.join(c.text() for c in self.limited_by)}. Every number below is "
                    f"about these {self.pool_size:,} SKUs only, not the catalogue.")
        if self.pool_size < self.catalogue_size:
            return f"{note} — the rest have no vectors in a compared representation."
        return f"{note}."

    def excluded_lines(self) -> list[str]:
        """Partial representations left out, with their coverage."""
        return [c.excluded_text() for c in self.excluded]

    def floors_text(self) -> str:
        f = self.floors
        return (f"floors: pool ≥ {f['min_pool_items']} SKUs, ≥ {f['min_shoppers']} shoppers evaluated; a verdict "
                f"needs ≥ {f['min_verdict_shoppers']} shoppers and Holm-adjusted p < {ALPHA:.2f} (paired sign-flip "
                "permutation test) across the comparisons shown together")

    @property
    def floors(self) -> dict:
        """min_pool_items, min_shoppers, min_verdict_shoppers this evaluation ran under."""
        return self.config["floors"]

    def _check(self, method: str, metric: str) -> None:
        if method not in self.methods:
            raise EvaluationError(f"{method!r} was not evaluated; evaluated: {', '.join(self.methods)}")
        if metric not in self.per_user.columns:
            raise EvaluationError(f"no per-shopper metric {metric!r}; choose one of "
                                  f"{', '.join(m for m in self.metrics if not m.startswith('coverage'))}")

    def values(self, method: str, metric: str) -> pd.Series:
        """Per-shopper values indexed by shopper_id (sorted), for one method and metric."""
        self._check(method, metric)
        rows = self.per_user[self.per_user["method"] == method]
        return rows.set_index("shopper_id")[metric].sort_index()

    def estimate(self, method: str, metric: str) -> Estimate:
        row = self.summary[(self.summary["method"] == method) & (self.summary["metric"] == metric)]
        if row.empty:
            raise EvaluationError(f"no result for {method!r} on {metric!r}")
        r = row.iloc[0]
        return Estimate(float(r["mean"]), float(r["lo"]), float(r["hi"]), int(r["n"]))

    def _raw_paired(self, a: str, b: str, metric: str) -> Paired:
        if a == b:
            raise EvaluationError("pick two different representations to compare")
        va, vb = self.values(a, metric), self.values(b, metric)
        return paired_bootstrap(va.to_numpy(), vb.reindex(va.index).to_numpy(), names=(a, b), metric=metric,
                                seed=self.seed, n_resamples=self.config["n_resamples"],
                                min_n=self.floors["min_verdict_shoppers"])

    def family(self, pairs: Sequence[tuple[str, str]], metric: str | None = None) -> list[Paired]:
        """Paired comparisons a − b shown together: each keeps its own interval and p, and verdicts come from the
        Holm-adjusted p across the whole family (with the verdict floor of shoppers)."""
        metric = metric or self.primary_metric
        key = (tuple(pairs), metric)
        if key not in self._families:
            self._families[key] = corrected([self._raw_paired(a, b, metric) for a, b in pairs])
        return list(self._families[key])

    def comparisons(self, reference: str, metric: str | None = None) -> list[Paired]:
        """`reference` against every other evaluated method: one family (a report's or the page's table)."""
        self._check(reference, metric or self.primary_metric)
        return self.family([(reference, m) for m in self.methods if m != reference], metric)

    def paired(self, a: str, b: str, metric: str | None = None) -> Paired:
        """One pre-planned comparison a − b (a family of one); shown with others, use family() or comparisons()."""
        return self.family([(a, b)], metric)[0]

    def disagreements(self, a: str, b: str, metric: str | None = None, n: int = 10) -> pd.DataFrame:
        """Shoppers on whom a and b differ most (largest |a − b|; ties by shopper id)."""
        metric = metric or self.primary_metric
        va, vb = self.values(a, metric), self.values(b, metric)
        info = self.per_user[self.per_user["method"] == a].set_index("shopper_id")[["category", "test_skus"]]
        df = pd.DataFrame({"shopper_id": va.index, a: va.to_numpy(), b: vb.reindex(va.index).to_numpy()})
        df["difference"] = df[a] - df[b]
        df = df.join(info, on="shopper_id")
        df = df[df["difference"] != 0]
        df = df.assign(size=df["difference"].abs())
        return (df.sort_values(["size", "shopper_id"], ascending=[False, True], kind="stable")
                .drop(columns="size").head(n).reset_index(drop=True))

    def by_category(self, metric: str | None = None) -> pd.DataFrame:
        """Mean and bootstrap interval per (method, category of the shopper's test items)."""
        metric = metric or self.primary_metric
        self._check(self.methods[0], metric)
        rows = []
        for (method, category), group in self.per_user.groupby(["method", "category"], sort=False):
            est = bootstrap_ci(group[metric].to_numpy(), seed=self.seed, n_resamples=self.config["n_resamples"])
            rows.append({"method": method, "category": category, "shoppers": est.n, "mean": est.mean,
                         "lo": est.lo, "hi": est.hi})
        df = pd.DataFrame(rows)
        order = {m: i for i, m in enumerate(self.methods)}
        return df.sort_values(["category", "method"], key=lambda c: c.map(order) if c.name == "method" else c,
                              kind="stable").reset_index(drop=True)

    def category_table(self, metric: str | None = None) -> pd.DataFrame:
        """Categories × methods of 'mean [lo, hi]' strings, with the number of shoppers per category."""
        cats = self.by_category(metric)
        cats["cell"] = [Estimate(r.mean, r.lo, r.hi, r.shoppers).cell() for r in cats.itertuples()]
        wide = cats.pivot(index="category", columns="method", values="cell")[self.methods]
        shoppers = cats.groupby("category")["shoppers"].first()
        return wide.assign(shoppers=shoppers).reset_index()[["category", "shoppers", *self.methods]]

    def default_pair(self) -> tuple[str, str]:
        """What the paired comparison starts on: a description run (the one the fusions are built on, else the
        first; else the first representation) against visual, else title, else popularity."""
        trivial = {"random", "popularity"}
        fused = [m.split(":", 1)[1].split("+")[0] for m in self.methods if ":" in m]
        runs = [m for m in fused if m in self.methods] + [m for m in self.methods if "@" in m and ":" not in m]
        a = (runs or [m for m in self.methods if m not in trivial] or self.methods)[0]
        b = next((m for m in ("visual", "title", "popularity", *self.methods) if m in self.methods and m != a), a)
        return a, b

    def table(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """Methods × metrics of 'mean [lo, hi] n=N' strings (coverage: the value alone), in evaluation order."""
        metrics = metrics or self.metrics
        cells = {(r.method, r.metric): (f"{r.mean:.3f}" if np.isnan(r.lo) else Estimate(r.mean, r.lo, r.hi, r.n).cell())
                 for r in self.summary.itertuples()}
        return pd.DataFrame([{"method": m, **{k: cells.get((m, k), "") for k in metrics}} for m in self.methods])

    def to_dict(self, per_user: bool = True) -> dict:
        """Everything as JSON-ready data (per-shopper values included unless asked not to)."""
        out = {
            "config": self.config, "pool_size": self.pool_size, "representation_sizes": self.representation_sizes,
            "pool": {"size": self.pool_size, "catalogue": self.catalogue_size, "note": self.pool_note(),
                     "limited_by": [c.as_dict() for c in self.limited_by]},
            "coverage": [c.as_dict() for c in self.coverage], "excluded": [c.as_dict() for c in self.excluded],
            "filter": self.filter.as_dict(), "parts": self.parts, "methods": self.methods, "metrics": self.metrics,
            "summary": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                        for r in self.summary.to_dict("records")],
            "tuning": self.tuning,
        }
        if per_user:
            out["per_user"] = self.per_user.to_dict("records")
        return out
