"""`vitrine frontier`: each run's price per 1,000 SKUs against Recall@10 and QA flag rate (wired in by
core/cli/main.py)."""

from __future__ import annotations

import argparse
import json

from core.cli.output import print_table
from core.lab import Lab
from core.services.frontier import PRICES, frontier


def cmd_frontier(lab: Lab, args: argparse.Namespace) -> None:
    f = frontier(lab, report=args.report, price=args.price)
    if args.json:
        rows = json.loads(f.runs.to_json(orient="records"))  # numpy values as plain ones, NaN as null
        print(json.dumps({"report": str(f.report.path) if f.report else None, "price": f.price, "notes": f.notes(),
                          "runs": rows}, indent=2))
        return
    for line in f.notes():
        print(line)
    print("(dominated: another run costs no more and is no worse, and is better on one of the two)\n")
    table = f.table()
    print_table(table.to_dict("records"), list(table.columns))


def add_frontier_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `frontier`: errors surface as VitrineError for core.cli.main.main to report (exit 2)."""
    p = subparsers.add_parser("frontier", parents=[common_parent],
                              help="cost per 1,000 SKUs against Recall@10 and QA flag rate, per run")
    p.add_argument("--report", metavar="FILE", help="evaluation report (reports/evaluation-*.json) to take Recall@10 "
                                                    "from (default: the newest that measured a run)")
    p.add_argument("--price", choices=PRICES, default="sync", help="which price the dominance uses (default sync)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_frontier, reads=True)
