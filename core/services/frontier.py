"""Cost–quality frontier: for each description run (prompt version × provider × model), what 1,000 SKUs cost against
the Recall@10 an evaluation measured and the share QA's automatic checks flag, with the dominated runs marked.

Only what runs already record is used, and nothing is estimated where it was not measured:
- $ per 1,000 SKUs = 1,000 × the mean, over the run's successful descriptions, of the price (core/data/prices.yaml
  as it is now) of the tokens each recorded; sync at the list price, batch at the provider's batch price (only for
  providers with a Batch API reached at their hosted API). A run on this machine costs $0; a local server's or an
  unpriced model's run has no dollar figure, and says why.
- Recall@10 comes from one stored evaluation report (default: the newest that measured any run), so every run on a
  chart shares one split and one candidate pool; a run that report did not evaluate is "not measured".
- QA flag rate is core.services.flag_rate over the run's current descriptions, from one QA table for all runs.
A run is dominated on a chart when another costs no more and is no worse on the quality axis, and is strictly better
on one of the two; only runs measured on both axes are placed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.describe.pricing import FREE, cost_usd, no_price
from core.describe.prompts import PromptError
from core.describe.registry import provider_class
from core.errors import ConfigError, VitrineError
from core.evaluation.bootstrap import Estimate
from core.lab import Lab
from core.safe_text import formula_safe_csv
from core.services.ab import Side
from core.services.flag_rate import flag_rate
from core.services.qa import qa_table

RECALL = "recall@10"
NOT_MEASURED = "not measured"
PRICES = ("sync", "batch")


class FrontierError(VitrineError):
    """The frontier cannot be drawn as asked; the message says what to change."""


def dominated(points: Sequence[Sequence[float]]) -> list[bool]:
    """For objectives to minimise (negate one to maximise it): True where another point is at least as good on
    every objective and strictly better on one. Equal points dominate neither."""
    p = np.asarray(points, dtype=float).reshape(len(points), -1)
    no_worse = np.all(p[None, :, :] <= p[:, None, :], axis=2)  # [i, j]: j is no worse than i everywhere
    better = np.any(p[None, :, :] < p[:, None, :], axis=2)
    return [bool(v) for v in np.any(no_worse & better, axis=1)]


@dataclass(frozen=True)
class Report:
    """A stored evaluation report, as the frontier reads it."""

    path: Path
    created_at: str
    split: str
    pool_note: str
    recall: dict[str, dict]  # method -> {mean, lo, hi, n} on recall@10

    def label(self) -> str:
        return f"{self.path.name} ({self.split} split, {self.created_at})"


def evaluation_reports(lab: Lab) -> list[Report]:
    """Stored evaluation reports, newest first (their file names start with the time they were written)."""
    out = []
    for path in sorted(lab.workspace.reports_dir.glob("evaluation-*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = [r for r in data["summary"] if r["metric"] == RECALL and r.get("mean") is not None]
            out.append(Report(path, str(data["config"]["created_at"]), str(data["config"]["split"]),
                              str(data.get("pool", {}).get("note", "")),
                              {r["method"]: {k: r.get(k) for k in ("mean", "lo", "hi", "n")} for r in rows}))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a report this version can read: it is not offered
    return out


@dataclass(frozen=True)
class Frontier:
    runs: pd.DataFrame  # one row per run; see frontier() for the columns
    report: Report | None  # where Recall@10 came from
    price: str  # "sync" or "batch": which price cost_per_1k (the charts' cost axis) is

    def notes(self) -> list[str]:
        """What the reader must know before reading a chart: where recall came from and what is missing."""
        source = (f"Recall@10 from {self.report.label()}: {self.report.pool_note}" if self.report else
                  "Recall@10: no evaluation report in this workspace yet (Evaluation page, or `vitrine evaluate`).")
        out = [source]
        if self.price == "batch":
            out.append("Batch price: runs whose provider has no Batch API are placed at their sync price (what they "
                       "cost).")
        noisy = self.runs.loc[self.runs["recall_within_noise"], "run"].tolist()
        if noisy:
            out.append(f"{len(noisy):,} run(s) are dominated on Recall@10 means only: their 95% interval overlaps that "
                       f"of every run dominating them, so the data cannot tell they are worse: {', '.join(noisy)}")
        for column, what in (("recall", "Recall@10"), ("flag_rate", "QA flag rate"), ("cost_per_1k", "a price")):
            missing = self.runs.loc[self.runs[column].isna(), "run"].tolist()
            if missing:
                out.append(f"{len(missing):,} run(s) without {what} are left off that chart: {', '.join(missing)}")
        return out

    def table(self) -> pd.DataFrame:
        """The runs as a reader sees them: each figure with its n, or why it is missing; never a blank."""
        def dollars(value: float, note: str) -> str:
            return (note or NOT_MEASURED) if value != value else (FREE if value == 0 else f"${value:,.4f}")

        def place(value: object) -> str:
            return "not placed" if value is None else ("dominated" if value else "frontier")

        r = self.runs
        return pd.DataFrame({
            "run": r["run"], "described": r["described"],
            "sync $ / 1,000 SKUs": [dollars(v, n) for v, n in zip(r["sync_per_1k"], r["price_note"], strict=True)],
            "batch $ / 1,000 SKUs": [dollars(v, "no Batch API") for v in r["batch_per_1k"]],
            "Recall@10": [note if m != m else Estimate(m, lo, hi, int(n)).cell() for m, lo, hi, n, note in
                          zip(r["recall"], r["recall_lo"], r["recall_hi"], r["recall_n"], r["recall_note"],
                              strict=True)],
            "QA flag rate": [note if v != v else f"{v:.1%} n={n}" for v, n, note in
                             zip(r["flag_rate"], r["flag_checked"], r["flag_note"], strict=True)],
            "cost–recall": [place(d) + (" (intervals overlap: not a verdict)" if noise else "")
                            for d, noise in zip(r["recall_dominated"], r["recall_within_noise"], strict=True)],
            "cost–flags": r["flags_dominated"].map(place),
        })


def _price(lab: Lab, provider: str, model: str, input_tokens: float, output_tokens: float
           ) -> tuple[float | None, float | None, str]:
    """(sync $/1k, batch $/1k, why a figure is missing or '$0')."""
    try:
        override = lab.describer_overrides.get(provider)
        has_batch = override.supports_batch if override is not None else provider_class(provider).supports_batch
        where = lab.where(lab.connection(provider, model=model))
    except ConfigError as exc:
        return None, None, str(exc)
    if where == "on this machine":
        return 0.0, None, FREE
    if why := no_price(provider, model, where):
        return None, None, why
    if input_tokens + output_tokens == 0:
        return None, None, "no token counts recorded"
    sync = 1000 * cost_usd(provider, model, round(input_tokens), round(output_tokens))
    batch = (1000 * cost_usd(provider, model, round(input_tokens), round(output_tokens), batch=True)
             if has_batch and where == "hosted API" else None)
    return sync, batch, "" if batch is not None else "no Batch API"


def _flags(lab: Lab, prompt_ref: str, provider: str, model: str, table: pd.DataFrame
           ) -> tuple[float | None, int, str]:
    try:
        rate = flag_rate(lab, Side(lab.prompts.get(prompt_ref), provider, model), table=table)
    except PromptError:
        return None, 0, f"{NOT_MEASURED}: the prompt file of {prompt_ref} is gone"
    except VitrineError as exc:
        return None, 0, f"{NOT_MEASURED}: {exc}"
    return rate.rate, rate.checked, ""


def frontier(lab: Lab, *, report: str | None = None, price: str = "sync") -> Frontier:
    """Every description run with its price per 1,000 SKUs, Recall@10 (from one report) and QA flag rate, and
    whether another run dominates it on the cost–recall and cost–flag-rate charts."""
    if price not in PRICES:
        raise FrontierError(f"price must be one of {', '.join(PRICES)} (got {price!r})")
    descs = lab.store.descriptions()
    ok = descs[descs["error"] == ""]
    if ok.empty:
        raise FrontierError("no successful descriptions in this workspace yet: describe the catalogue first")
    ok = ok.assign(prompt_ref=ok["prompt_name"] + "@v" + ok["prompt_version"].astype(str))
    ok = ok.assign(run=ok["prompt_ref"] + "/" + ok["provider"] + "/" + ok["model"])
    chosen = _choose(evaluation_reports(lab), report, set(ok["run"]), lab)
    table = qa_table(lab)  # once for every run's flag rate
    rows = []
    for (run, prompt_ref, provider, model), group in ok.groupby(["run", "prompt_ref", "provider", "model"]):
        mean_in, mean_out = float(group["input_tokens"].mean()), float(group["output_tokens"].mean())
        sync, batch, price_note = _price(lab, provider, model, mean_in, mean_out)
        measured = chosen.recall.get(run) if chosen else None
        rate, checked, flag_note = _flags(lab, prompt_ref, provider, model, table)
        rows.append({
            "run": run, "prompt": prompt_ref, "provider": provider, "model": model, "described": len(group),
            "input_tokens": mean_in, "output_tokens": mean_out, "sync_per_1k": sync, "batch_per_1k": batch,
            "price_note": price_note,
            "recall": measured["mean"] if measured else None, "recall_lo": measured["lo"] if measured else None,
            "recall_hi": measured["hi"] if measured else None, "recall_n": measured["n"] if measured else None,
            "recall_note": "" if measured else f"{NOT_MEASURED}: not in the chosen evaluation report",
            "flag_rate": rate, "flag_checked": checked, "flag_note": flag_note,
        })
    runs = pd.DataFrame(rows)
    runs[["sync_per_1k", "batch_per_1k", "recall", "recall_lo", "recall_hi", "flag_rate"]] = runs[
        ["sync_per_1k", "batch_per_1k", "recall", "recall_lo", "recall_hi", "flag_rate"]].astype(float)
    runs["cost_per_1k"] = runs["batch_per_1k"].fillna(runs["sync_per_1k"]) if price == "batch" else runs["sync_per_1k"]
    runs["recall_dominated"] = _dominated_where_measured(runs["cost_per_1k"], -runs["recall"])
    runs["flags_dominated"] = _dominated_where_measured(runs["cost_per_1k"], runs["flag_rate"])
    runs["recall_within_noise"] = _within_noise(runs)
    return Frontier(runs, chosen, price)


def _dominated_where_measured(cost: pd.Series, quality: pd.Series) -> pd.Series:
    """True/False for runs measured on both axes (lower is better on each), None for the rest."""
    placed = cost.notna() & quality.notna()
    out = pd.Series([None] * len(cost), index=cost.index, dtype=object)
    if placed.any():
        out[placed] = dominated(list(zip(cost[placed], quality[placed], strict=True)))
    return out


def _within_noise(runs: pd.DataFrame) -> list[bool]:
    """For each run dominated on cost–recall: True when its Recall@10 interval overlaps that of every run dominating
    it, so the data cannot tell it is worse (the grey is then no verdict); False otherwise."""
    out = []
    for i in runs.index:
        if not runs.at[i, "recall_dominated"]:  # False, or None: not placed
            out.append(False)
            continue
        cost, mean = runs.at[i, "cost_per_1k"], runs.at[i, "recall"]
        over = runs[(runs["cost_per_1k"] <= cost) & (runs["recall"] >= mean) & runs.index.to_series().ne(i)
                    & ((runs["cost_per_1k"] < cost) | (runs["recall"] > mean))]
        out.append(bool((over["recall_lo"] <= runs.at[i, "recall_hi"]).all()))
    return out


def _choose(reports: list[Report], name: str | None, runs: set[str], lab: Lab) -> Report | None:
    """The named report, else the newest that measured a description run, else the newest."""
    if name:
        match = [r for r in reports if r.path.name == Path(name).name]
        if not match:
            raise FrontierError(f"no evaluation report named {name!r} in {lab.workspace.reports_dir}; reports: "
                                f"{', '.join(r.path.name for r in reports) or 'none yet'}")
        return match[0]
    return next((r for r in reports if runs & r.recall.keys()), reports[0] if reports else None)


def frontier_csv(f: Frontier) -> bytes:
    """The runs table as formula-safe CSV (run names carry user-chosen prompt names)."""
    return formula_safe_csv(f.runs)
