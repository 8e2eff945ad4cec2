"""`vitrine evaluate ...`: fair offline evaluation from the command line (wired in by core/cli/main.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tqdm import tqdm

from core.catalog.interactions import load_interactions
from core.cli.output import print_table
from core.errors import VitrineError
from core.evaluation.metrics import metric_label
from core.evaluation.report import evaluate_to_workspace, pool_lines, report_comparisons
from core.evaluation.splits import SPLITS
from core.lab import Lab
from core.services.gates import Threshold, beat_gates, parse_threshold, planned_methods, threshold_gates
from core.services.runs import active_run


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. 5,10,20") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: cut-offs must be positive integers")
    return values


def _threshold(text: str) -> Threshold:
    try:
        return parse_threshold(text)
    except VitrineError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_evaluate(lab: Lab, args: argparse.Namespace) -> int:
    interactions = load_interactions(lab.workspace, csv=args.interactions, mmrec=args.mmrec, amazon=args.amazon,
                                     amazon_meta=args.amazon_meta)
    reps: str | list[str] = ("all" if args.representations.strip() == "all"
                             else [r for r in args.representations.split(",") if r.strip()])
    gated = bool(args.fail_under or args.must_beat)
    if args.gate_run and not gated:
        raise VitrineError("--gate-run names what the gates judge: add --fail-under or --must-beat")
    if gated:  # a gate that cannot be checked is refused before the evaluation runs
        args.gate_run = args.gate_run or active_run(lab).run
        reps = planned_methods(lab, reps, args.gate_run, args.fail_under, args.must_beat, args.k)
    bar = tqdm(desc="evaluating", file=sys.stderr, leave=False, disable=args.json)

    def update(done: int, total: int, label: str) -> None:
        bar.total, bar.n = total, done
        bar.set_postfix_str(label[:40])
        bar.refresh()

    try:
        ev = evaluate_to_workspace(lab, interactions, split=args.split, representations=reps, ks=args.k,
                                   seed=args.seed, min_interactions=args.min_interactions, progress=update)
    finally:
        bar.close()
    family = report_comparisons(ev)
    gates = ([*threshold_gates(ev, args.gate_run, args.fail_under), *beat_gates(ev, args.gate_run, args.must_beat)]
             if gated else [])
    if args.json:
        print(json.dumps(ev.to_dict(per_user=False) | {"comparisons": [p.as_dict() for p in family],
                                                        "reports": ev.report_paths,
                                                        "gates": [asdict(g) for g in gates]}, indent=2, default=float))
        return int(not all(g.passed for g in gates))
    print("\n".join(pool_lines(ev)))
    print(f"{interactions.summary()} from {interactions.source}")
    print(f"split {ev.config['split']}, seed {ev.seed}; {ev.filter.summary()}")
    print(f"history excluded from rankings; {ev.floors_text()}\n")
    for k in ev.config["ks"]:
        metrics = [m for m in ev.metrics if m.endswith(f"@{k}")]
        table = ev.table(metrics).rename(columns={m: metric_label(m) for m in metrics})
        print(f"K = {k}: mean [95% bootstrap CI] n=shoppers")
        print_table(table.to_dict("records"), list(table.columns))
        print()
    table = ev.table(["mrr"]).rename(columns={"mrr": "MRR"})
    print_table(table.to_dict("records"), list(table.columns))
    print(f"\nPaired comparisons on {metric_label(ev.primary_metric)} (one family of {len(family)}, Holm-corrected):")
    for p in family:
        print(f"- {p.sentence()}")
    for name, t in ev.tuning.items():
        print(f"{name}: weight {t['weight']} tuned on validation {metric_label(t['metric'])}")
    print(f"\nreports: {', '.join(ev.report_paths)}")
    for g in gates:
        print(g.text())
    return int(not all(g.passed for g in gates))


def add_evaluate_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `evaluate`; errors surface as VitrineError (EvaluationError) for core.cli.main.main to report."""
    p = subparsers.add_parser("evaluate", parents=[common_parent],
                              help="fair offline evaluation of representations with confidence intervals")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--interactions", metavar="CSV",
                        help="shopper_id,sku,timestamp[,rating] (default: the workspace's interactions.csv)")
    source.add_argument("--mmrec", metavar="FILE", help="MMRec .inter file (userID, itemID, x_label)")
    source.add_argument("--amazon", metavar="FILE", help="Amazon-reviews JSON lines (optionally .gz)")
    p.add_argument("--amazon-meta", metavar="FILE", help="Amazon metadata JSON lines (title, category)")
    p.add_argument("--split", choices=SPLITS, default="loo",
                   help="loo (leave-last-out, default), random (80/10/10 per shopper), temporal (global cut), "
                        "given (the MMRec file's own labels)")
    p.add_argument("--representations", default="all",
                   help="a,b,... or all: random, popularity, stored names (title, visual, PROMPT@vN/PROVIDER/"
                        "MODEL), concat:A+B, mean:A+B, weighted:A+B. 'all' compares the representations covering "
                        "the whole catalogue and lists partial ones with their coverage; name a partial one to "
                        "compare it on the overlap (refused below 50 SKUs or 20 shoppers)")
    p.add_argument("--k", type=_ints, default=(5, 10, 20), help="cut-offs, e.g. 5,10,20")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, tie order, random baseline, bootstrap")
    p.add_argument("--min-interactions", type=int, default=3,
                   help="shoppers with fewer interactions (inside the pool) are filtered and counted")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    gate = p.add_argument_group("CI gates (exit 1 when one fails)")
    gate.add_argument("--fail-under", metavar="METRIC@K=VALUE", type=_threshold, action="append", default=[],
                      help="fail when the gated run's mean is below VALUE, e.g. recall@10=0.08 (repeatable)")
    gate.add_argument("--must-beat", metavar="NAME", action="append", default=[],
                      help="fail unless the gated run beats NAME on the primary metric with a significant paired "
                           "verdict (Holm-corrected across the --must-beat names), e.g. visual (repeatable)")
    gate.add_argument("--gate-run", metavar="NAME", help="the representation the gates judge (default: the active run)")
    p.set_defaults(fn=cmd_evaluate)
