"""An evaluation's outcome: per-shopper values, summary with intervals, and the comparisons built on them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import EvaluationError
from core.evaluation.bootstrap import Estimate, Paired, bootstrap_ci, paired_bootstrap
from core.evaluation.splits import FilterReport


@dataclass
class Evaluation:
    config: dict  # split, seed and its streams, ks, methods, tie rule, source, ...
    pool_size: int
    representation_sizes: dict[str, int]  # vectors per stored representation before pooling
    filter: FilterReport
    parts: dict[str, int]  # train / valid / test interactions after filtering
    methods: list[str]
    metrics: list[str]  # per-shopper metrics then coverage@K
    per_user: pd.DataFrame  # method, shopper_id, category, test_skus, n_test, then one column per metric
    summary: pd.DataFrame  # method, metric, mean, lo, hi, n (coverage has no interval)
    tuning: dict[str, dict] = field(default_factory=dict)  # weighted fusions: chosen weight and the grid
    report_paths: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def primary_metric(self) -> str:
        ks = self.config["ks"]
        return f"ndcg@{10 if 10 in ks else ks[0]}"

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

    def paired(self, a: str, b: str, metric: str | None = None) -> Paired:
        """Paired bootstrap of per-shopper differences a − b (same shoppers, same pool)."""
        metric = metric or self.primary_metric
        if a == b:
            raise EvaluationError("pick two different representations to compare")
        va, vb = self.values(a, metric), self.values(b, metric)
        return paired_bootstrap(va.to_numpy(), vb.reindex(va.index).to_numpy(), names=(a, b), metric=metric,
                                seed=self.seed, n_resamples=self.config["n_resamples"])

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
        cats["cell"] = [Estimate(r.mean, r.lo, r.hi, r.shoppers).text() for r in cats.itertuples()]
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
        """Methods × metrics of 'mean [lo, hi]' strings (coverage: the value alone), in evaluation order."""
        metrics = metrics or self.metrics
        cells = {(r.method, r.metric): (f"{r.mean:.3f}" if np.isnan(r.lo) else Estimate(r.mean, r.lo, r.hi, r.n).text())
                 for r in self.summary.itertuples()}
        return pd.DataFrame([{"method": m, **{k: cells.get((m, k), "") for k in metrics}} for m in self.methods])

    def to_dict(self, per_user: bool = True) -> dict:
        """Everything as JSON-ready data (per-shopper values included unless asked not to)."""
        out = {
            "config": self.config, "pool_size": self.pool_size, "representation_sizes": self.representation_sizes,
            "filter": self.filter.as_dict(), "parts": self.parts, "methods": self.methods, "metrics": self.metrics,
            "summary": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                        for r in self.summary.to_dict("records")],
            "tuning": self.tuning,
        }
        if per_user:
            out["per_user"] = self.per_user.to_dict("records")
        return out
