"""Every baseline on the sample catalogue, plus the title ablation, under the fair protocol (seeded).

Builds the sample workspace from sample_catalog/ in a temporary folder (never in the repo), describes the
catalogue once more with `preference` minus its {title} line and with the title removed from the describer's
item context, then evaluates all methods on the leave-last-out and random splits.

Usage: python bench/eval_sample.py [--write] [--seed 0] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog.interactions import load_interactions  # noqa: E402
from core.evaluation.ablation import run_withheld  # noqa: E402
from core.evaluation.baselines import default_specs  # noqa: E402
from core.evaluation.metrics import metric_label  # noqa: E402
from core.evaluation.report import evaluate_to_workspace, results_tables, write_section  # noqa: E402
from core.evaluation.result import Evaluation  # noqa: E402
from core.lab import open_lab  # noqa: E402
from core.services.sample import build_sample  # noqa: E402

EVIDENCE = ROOT / "EVALUATION.md"
REPRODUCE = "python bench/eval_sample.py --write"


def key_comparisons(ev: Evaluation) -> list[str]:
    """The questions the paper asks, as one family of paired comparisons on the primary metric (Holm-corrected)."""
    runs = {m.split("@")[0]: m for m in ev.methods if "@" in m and ":" not in m}
    pref = runs.get("preference", "")
    pairs = [(pref, "visual"), (pref, "title"), (pref, runs.get("appearance", "")),
             (pref, runs.get("preference-notitle", "")),
             (pref, "popularity"), ("visual", "popularity"), ("title", "popularity")]
    pairs += [(m, pref) for m in ev.methods if ":" in m]
    shown = [(a, b) for a, b in pairs if a in ev.methods and b in ev.methods]
    return [f"- {p.sentence()}" for p in ev.family(shown, ev.primary_metric)]


def section(evs: dict[str, Evaluation], seed: int) -> str:
    loo = evs["loo"]
    f = loo.filter
    lines = [
        f"Sample catalogue (`sample_catalog/`: {loo.pool_size} SKUs with vectors in every representation = the "
        f"candidate pool for all methods), its `interactions.csv` ({f.interactions_in:,} interactions, "
        f"{f.shoppers_in} shoppers). Seed **{seed}** for the split, tie order, random baseline and bootstrap "
        f"({loo.config['n_resamples']} resamples). Descriptions come from the **offline tagger (not an LVLM)**.",
        "",
        "Methods: `random`; `popularity` (train-split counts); `title` (MiniLM of title + category); `visual` "
        "(EfficientNet-Lite0 pooled features); one row per description run (`preference`, `appearance`, and the "
        "ablation `preference-notitle`: the same prompt without its title line, run with the title removed from "
        "the describer's item context); fusions of the preference run with `visual`: `concat` (joined "
        "normalised vectors), `mean` (mean of cosines) and `weighted` (weight tuned on the validation split only).",
        "",
        f"### Leave-last-out (last interaction = test, second last = validation)\n\n{f.summary()}",
        "", loo.pool_note(), "", *results_tables(loo), "",
        f"Paired comparisons of per-shopper differences ({metric_label(loo.primary_metric)}; one family, "
        f"Holm–Bonferroni; {loo.floors_text()}):", "",
        *key_comparisons(loo), "",
    ]
    for name, t in loo.tuning.items():
        lines.append(f"Tuned weight for {name}: w = {t['weight']} (validation {metric_label(t['metric'])} grid: "
                     f"{t['grid']}).")
    rnd = evs["random"]
    k10 = ["recall@10", "precision@10", "ndcg@10", "map@10", "hitrate@10", "mrr"]
    table = rnd.table(k10).rename(columns={m: metric_label(m) for m in k10})
    lines += ["", f"### Random per-shopper 80/10/10 split (seed {seed})\n\n{rnd.filter.summary()}", "",
              "| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns),
              *("| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)), "",
              f"Paired ({metric_label(rnd.primary_metric)}; one family, Holm–Bonferroni):", "",
              *key_comparisons(rnd), "",
              *(f"Tuned weight for {name}: w = {t['weight']}." for name, t in rnd.tuning.items()), "",
              f"Reproduce: `{REPRODUCE}` (builds the sample workspace in a temporary folder). Without the ablation "
              "row, the CLI alone gives the same protocol: `vitrine sample --workspace /tmp/s && "
              f"vitrine evaluate --workspace /tmp/s --seed {seed}`."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update the sample section of {EVIDENCE.name}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workspace", help="reuse this folder (default: a new temporary folder)")
    args = parser.parse_args()
    root = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="vitrine-eval-sample-"))
    lab = open_lab(root / "ws")  # the ablation prompt is saved in the workspace's prompts/, never the repo's
    if not lab.store.item_count():
        print(f"building the sample workspace in {root} …", file=sys.stderr)
        build_sample(lab)
    ablation = run_withheld(lab, lab.prompts.get("preference"), "offline")
    print(f"ablation: {ablation.summary()}", file=sys.stderr)
    interactions = load_interactions(lab.workspace)
    methods = [m for m in default_specs(lab) if "/simulated/" not in m]  # the simulated LVLM has its own section
    evs = {split: evaluate_to_workspace(lab, interactions, split=split, representations=methods, seed=args.seed)
           for split in ("loo", "random")}
    body = section(evs, args.seed)
    print(body)
    if args.write:
        write_section(EVIDENCE, "sample", "Sample catalogue: every baseline, seeded", body)
        print(f"wrote {EVIDENCE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
