"""The simulated LVLM's accuracy dial as a curve: Recall@10 and NDCG@10 of its preference run at p in {0, 0.25, 0.5,
0.75, 0.9, 1} against visual, title and metadata, with paired intervals (Holm-corrected), on the sample catalogue.

Builds the sample workspace in a temporary folder unless --workspace names one; either way the sweep's JSON lands
in that workspace's reports/ folder, where the Evaluation page draws the curve.

Usage: python bench/simulated_sweep.py [--write] [--seed 0] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog.interactions import load_interactions  # noqa: E402
from core.describe.identity import item_context, run_descriptions  # noqa: E402
from core.describe.providers.simulated import PROVIDER, label, model_name, truth_of  # noqa: E402
from core.evaluation.metrics import metric_label  # noqa: E402
from core.evaluation.report import write_section  # noqa: E402
from core.evaluation.sweep import ACCURACIES, BASELINES, METRICS, Sweep, run_sweep, write_sweeps  # noqa: E402
from core.lab import Lab, open_lab  # noqa: E402
from core.represent.representations import metadata_columns  # noqa: E402
from core.services.sample import build_sample  # noqa: E402

EVIDENCE = ROOT / "EVALUATION.md"
REPRODUCE = "python bench/simulated_sweep.py --write"
SPLITS = ("loo", "random")
MARK = {"a": " (wins)", "b": " (loses)", "tie": "", "insufficient": " (too few shoppers)"}


def facets_right(lab: Lab, accuracy: float) -> float:
    """The share of stated facets that match the ground truth: the dial as realised on this catalogue."""
    items = lab.store.items()
    current = run_descriptions(lab.store, items, lab.prompts.get("preference"), PROVIDER, model_name(accuracy))
    truths = [truth_of(item_context(item)) for item in items.to_dict("records")]
    pairs = [(value, truth[f]) for truth, attributes in zip(truths, current["attributes"], strict=True)
             for f, values in json.loads(attributes).items() for value in values if f in truth]
    return sum(a == b for a, b in pairs) / len(pairs)


def curve_table(sweep: Sweep, realised: dict[float, float]) -> list[str]:
    rows = {}
    for point in sweep.points:
        row = rows.setdefault(point.method, {"method": point.method, "accuracy": point.accuracy})
        row[point.metric] = f"{point.mean:.3f} [{point.lo:.3f}, {point.hi:.3f}] n={point.n}"
    lines = ["| method | p | facets right | " + " | ".join(metric_label(m) for m in METRICS) + " |",
             "|---|---|---|" + "---|" * len(METRICS)]
    for row in rows.values():
        p = row["accuracy"]
        lines.append(f"| {row['method']} | {'' if p is None else f'{p:g}'} | "
                     f"{'' if p is None else f'{realised[p]:.2f}'} | " + " | ".join(row[m] for m in METRICS) + " |")
    return lines


def comparison_table(sweep: Sweep) -> list[str]:
    cells = {(c.accuracy, c.metric, c.baseline): f"{c.diff:+.3f} [{c.lo:+.3f}, {c.hi:+.3f}]{MARK[c.verdict]}"
             for c in sweep.comparisons}
    columns = [(m, b) for m in METRICS for b in BASELINES]
    lines = ["| p | " + " | ".join(f"{metric_label(m)} − {b}" for m, b in columns) + " |",
             "|---|" + "---|" * len(columns)]
    accuracies = sorted({c.accuracy for c in sweep.comparisons})
    return lines + [f"| {p:g} | " + " | ".join(cells[(p, m, b)] for m, b in columns) + " |" for p in accuracies]


def findings(sweep: Sweep) -> list[str]:
    """What the curve shows, read off the verdicts and means (no adjectives the numbers don't carry)."""
    out = []
    for metric in METRICS:
        curve = sweep.curve(metric).set_index("method")
        runs = curve[curve["accuracy"].notna()].sort_values("accuracy")
        best = runs["mean"].idxmax()
        wins = {b: sweep.lowest_beating(b, metric) for b in BASELINES}
        beaten = ", ".join(f"{b} from p = {p:g}" for b, p in wins.items() if p is not None)
        losses = sorted({(c.accuracy, c.baseline) for c in sweep.comparisons if c.metric == metric and c.verdict == "b"})
        out.append(
            f"- {metric_label(metric)}: the simulated run goes from {runs['mean'].iloc[0]:.3f} at p = 0 to "
            f"{runs['mean'].iloc[-1]:.3f} at p = 1 (highest {runs.loc[best, 'mean']:.3f} at p = "
            f"{runs.loc[best, 'accuracy']:g}); visual {curve.loc['visual', 'mean']:.3f}, title "
            f"{curve.loc['title', 'mean']:.3f}, metadata {curve.loc['metadata', 'mean']:.3f}. "
            + (f"It beats {beaten} (Holm-adjusted p < 0.05)." if beaten else
               "No accuracy beats any of the three after Holm correction.")
            + (" It loses to " + ", ".join(f"{b} at p = {p:g}" for p, b in losses) + "." if losses else ""))
    return out


def section(sweeps: list[Sweep], realised: dict[float, float], columns: list[str], timings: dict[str, float]) -> str:
    first = sweeps[0]
    lines = [
        f"The **simulated LVLM** (`--provider simulated`, model `simulated-p<p>`; labelled \"{label(0.75)}\" "
        "and so on — it is not a model) writes each sample item's description from the generator's ground truth "
        "(style, material, colour, pattern, occasion columns), each facet right with probability p and otherwise "
        "replaced by another value seen on the same product kind. Whether a facet is right depends only on (image, "
        "facet), so raising p only turns wrong facets right; the product noun (subtype) is always right, and "
        "`usage_context` has no ground truth so it is never stated. Prompt: "
        f"`{first.prompt}` (its facets, order and word budget). Runs are embedded with MiniLM like any description "
        "run and compared with `visual`, `title` and `metadata` (the catalogue's own attribute columns as text: "
        f"{', '.join(columns)}) under the protocol above, one evaluation per split, so all methods share one pool "
        "and seed. \"facets right\" is the realised share of stated facets "
        "that match the ground truth.",
        "",
    ]
    for sweep in sweeps:
        lines += [
            f"### Split `{sweep.split}`, seed {sweep.seed}", "", sweep.pool, "",
            *curve_table(sweep, realised), "",
            f"Simulated run − baseline, per shopper (mean [95% paired bootstrap CI]); per metric the "
            f"{len(ACCURACIES) * len(BASELINES)} comparisons form one family, Holm–Bonferroni corrected (\"wins\" / "
            "\"loses\" only where the adjusted p < 0.05 with ≥ 30 shoppers):", "",
            *comparison_table(sweep), "",
            *findings(sweep), "",
        ]
    lines += [f"Runtime: sample workspace {timings['build']:.0f} s, sweep "
              + ", ".join(f"{s} {timings[s]:.0f} s" for s in SPLITS)
              + f" (six simulated runs of 200 items described and embedded once, then one evaluation per split); "
              f"{sum(timings.values()):.0f} s in all.", "",
              f"Reproduce: `{REPRODUCE}` (builds the sample workspace in a temporary folder; `--workspace DIR` "
              "reuses one and leaves the curve in its reports/ for the Evaluation page)."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update the simulated-sweep section of {EVIDENCE.name}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workspace", help="reuse this workspace (default: the sample built in a temporary folder)")
    args = parser.parse_args()
    lab = open_lab(Path(args.workspace) if args.workspace
                   else Path(tempfile.mkdtemp(prefix="vitrine-sweep-")) / "ws")
    timings = {"build": 0.0}
    if not lab.store.item_count():
        print(f"building the sample workspace in {lab.workspace.root} …", file=sys.stderr)
        started = time.perf_counter()
        build_sample(lab)
        timings["build"] = time.perf_counter() - started
    interactions = load_interactions(lab.workspace)
    sweeps = []
    for split in SPLITS:
        started = time.perf_counter()
        sweeps.append(run_sweep(lab, interactions, lab.prompts.get("preference"), split=split, seed=args.seed))
        timings[split] = time.perf_counter() - started
    print(f"wrote {write_sweeps(sweeps, lab.workspace.reports_dir)}", file=sys.stderr)
    body = section(sweeps, {p: facets_right(lab, p) for p in ACCURACIES}, metadata_columns(lab.store.items()), timings)
    print(body)
    if args.write:
        write_section(EVIDENCE, "simulated-sweep", "Sample catalogue: how accurate must a describer be?", body)
        print(f"wrote {EVIDENCE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
