"""Markdown + JSON evaluation reports (and the per-shopper CSV), written into the workspace's reports/ folder and
handed to the browser as downloads."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.catalog.interactions import Interactions
from core.evaluation.bootstrap import MIN_VERDICT_SHOPPERS, N_RESAMPLES, Paired
from core.evaluation.metrics import metric_label
from core.evaluation.protocol import DEFAULT_KS, MIN_POOL_ITEMS, MIN_SHOPPERS, evaluate
from core.evaluation.result import Evaluation
from core.evaluation.splits import SPLIT_HELP
from core.lab import Lab
from core.markdown_sections import splice_section
from core.models import Progress
from core.safe_text import formula_safe_csv


def markdown_table(rows: list[dict], columns: list[str]) -> list[str]:
    """A Markdown table; cells are escaped so names with '|' cannot break the layout, and a missing number is
    blank rather than 'None' or 'nan'."""
    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return str(v).replace("|", "\\|").replace("\n", " ")
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows)]


def results_tables(ev: Evaluation) -> list[str]:
    """Markdown tables: one per K (Recall, Precision, NDCG, MAP, HitRate with 95% CI and n; coverage), then MRR."""
    lines: list[str] = []
    for k in ev.config["ks"]:
        metrics = [m for m in ev.metrics if m.endswith(f"@{k}")]
        table = ev.table(metrics).rename(columns={m: metric_label(m) for m in metrics})
        lines += [f"**K = {k}** (mean [95% bootstrap CI] n=shoppers; coverage is catalogue-level, no interval)", "",
                  *markdown_table(table.to_dict("records"), list(table.columns)), ""]
    table = ev.table(["mrr"]).rename(columns={"mrr": "MRR (full ranking)"})
    lines += markdown_table(table.to_dict("records"), list(table.columns))
    return lines


def report_comparisons(ev: Evaluation, against: str | None = None) -> list[Paired]:
    """The report's family: every method against one reference (default: the best on the primary metric)."""
    metric = ev.primary_metric
    ref = against or max(ev.methods, key=lambda m: ev.estimate(m, metric).mean)
    return ev.comparisons(ref, metric)


def paired_lines(ev: Evaluation, against: str | None = None) -> list[str]:
    """The report's family as sentences, each with n, p and the Holm-adjusted p across the family."""
    return [f"- {p.sentence()}" for p in report_comparisons(ev, against)]


def pool_lines(ev: Evaluation) -> list[str]:
    """What the numbers are about: the pool against the catalogue, what limited it, what was left out."""
    return [ev.pool_note(), *(f"Left out: {line}" for line in ev.excluded_lines())]


def to_markdown(ev: Evaluation) -> str:
    c, f = ev.config, ev.filter
    sizes = ", ".join(f"{n}: {s:,}" for n, s in ev.representation_sizes.items()) or "no stored representation"
    family = report_comparisons(ev)
    lines = [
        f"# Evaluation report ({c['created_at']})", "",
        f"**{ev.pool_note()}**", "",
        *(f"- Left out: {line}" for line in ev.excluded_lines()),
        f"- Interactions: `{c['source']}`",
        f"- Split: **{c['split']}** ({SPLIT_HELP[c['split']]}), seed **{c['seed']}** "
        f"(streams {c['seed_streams']})",
        f"- Candidate pool: **{ev.pool_size:,} SKUs** of {ev.catalogue_size:,} in the catalogue, identical for "
        f"every method (SKUs with vectors in all compared representations; vectors per representation: {sizes})",
        f"- History: {c['test_history']}; {c['tie_rule']}",
        f"- Filter: {f.summary()}",
        f"- Parts after filtering: {ev.parts}",
        f"- Bootstrap: {c['n_resamples']} resamples of shoppers, 95% percentile intervals",
        f"- Verdicts: {ev.floors_text()}",
        "",
        "## Results", "", *results_tables(ev), "",
        f"## Paired comparisons ({metric_label(ev.primary_metric)}; one family of {len(family)}, Holm-corrected)",
        "", *(f"- {p.sentence()}" for p in family), "",
    ]
    if ev.tuning:
        lines += ["## Fusion weights (tuned on the validation split only)", ""]
        for name, t in ev.tuning.items():
            lines.append(f"- {name}: w = {t['weight']} on {metric_label(t['metric'])}"
                         + (f" ({t['note']})" if "note" in t else f" over {t['validation_shoppers']} shoppers; "
                            f"grid {t['grid']}"))
        lines.append("")
    lines.append(f"Reproduce: `vitrine evaluate --workspace {c['workspace']} --split {c['split']} "
                 f"--seed {c['seed']} --k {','.join(map(str, c['ks']))} --representations "
                 f"'{','.join(ev.methods)}'` (interactions: {c['source']})")
    return "\n".join(lines) + "\n"


def to_json(ev: Evaluation) -> str:
    """The whole result plus the family the Markdown states, so the two files never disagree."""
    data = ev.to_dict() | {"comparisons": [p.as_dict() for p in report_comparisons(ev)]}
    return json.dumps(data, indent=1, default=float)


def per_shopper_csv(ev: Evaluation) -> bytes:
    """Every shopper's score under every method, the rows behind each mean and interval, safe to open in a
    spreadsheet (shopper ids and SKUs come from an uploaded log)."""
    return formula_safe_csv(ev.per_user)


def report_stem(ev: Evaluation) -> str:
    """evaluation-<time>-<split>-seed<N>: the run's own time, so a download and the stored report share a name."""
    created = datetime.fromisoformat(ev.config["created_at"])
    return f"evaluation-{created:%Y%m%d-%H%M%S}-{ev.config['split']}-seed{ev.seed}"


def write_report(ev: Evaluation, folder: Path) -> list[Path]:
    """evaluation-<time>-<split>-seed<N>.md/.json; never overwrites an earlier report."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem(ev)
    for attempt in range(1000):
        base = folder / (stem if attempt == 0 else f"{stem}-{attempt}")
        md, js = base.with_suffix(".md"), base.with_suffix(".json")
        if not md.exists() and not js.exists():
            break
    md.write_text(to_markdown(ev), encoding="utf-8")
    js.write_text(to_json(ev), encoding="utf-8")
    ev.report_paths = [str(md), str(js)]
    return [md, js]


def evaluate_to_workspace(lab: Lab, interactions: Interactions, *, split: str = "loo",
                          representations: str | list[str] = "all", ks: tuple[int, ...] = DEFAULT_KS,
                          seed: int = 0, min_interactions: int = 3, n_resamples: int = N_RESAMPLES,
                          min_pool_items: int = MIN_POOL_ITEMS, min_shoppers: int = MIN_SHOPPERS,
                          min_verdict_shoppers: int = MIN_VERDICT_SHOPPERS,
                          progress: Progress | None = None) -> Evaluation:
    """evaluate() and write its Markdown + JSON report into <workspace>/reports (CLI and page share this)."""
    ev = evaluate(lab, interactions, split=split, representations=representations, ks=ks, seed=seed,
                  min_interactions=min_interactions, n_resamples=n_resamples, min_pool_items=min_pool_items,
                  min_shoppers=min_shoppers, min_verdict_shoppers=min_verdict_shoppers, progress=progress)
    write_report(ev, lab.workspace.reports_dir)
    return ev


def environment() -> str:
    """One line naming the machine and library versions, for evidence files."""
    import lancedb

    return (f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores available, Python "
            f"{platform.python_version()}, numpy {np.__version__}, lancedb {lancedb.__version__}, no GPU")


def write_section(path: Path, key: str, title: str, body: str) -> None:
    """Replace only the `key` section of a Markdown file (between HTML comment markers), creating it if absent."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    splice_section(path, key, f"## {title}\n\n{body.rstrip()}\n\nMachine: {environment()}. Date: {stamp}.",
                   "Evaluation")
