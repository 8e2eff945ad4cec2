"""`vitrine map-diff A B`: what changed between two runs' spaces (wired in by core/cli/main.py)."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from core.cli.arguments import int_in
from core.cli.output import print_table
from core.errors import VitrineError
from core.lab import Lab
from core.services.map_diff import K, default_pair, map_diff


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for JSON: numpy values as plain ones, a missing number (NaN) as null."""
    return json.loads(frame.to_json(orient="records"))


def cmd_map_diff(lab: Lab, args: argparse.Namespace) -> None:
    if bool(args.before) != bool(args.after):
        raise VitrineError("give both runs (BEFORE AFTER) or neither (another description run, then the active one)")
    before, after = (args.before, args.after) if args.before else default_pair(lab)
    diff = map_diff(lab, before, after, args.k)
    if args.sku:
        old, new = diff.neighbours(args.sku)
        if args.json:
            print(json.dumps({"sku": args.sku, "before": _records(old), "after": _records(new)}, indent=2))
            return
        for name, table in ((before, old), (after, new)):
            print(f"{args.sku} under {name}:")
            print_table(table.round({"cosine": 4}).to_dict("records"), list(table.columns))
        return
    moved = diff.items.head(args.top)
    if args.json:
        print(json.dumps({"before": before, "after": after, "k": diff.k, "coverage": diff.coverage.lines(before, after),
                          "mean_overlap": diff.mean_overlap, "categories": _records(diff.categories),
                          "moved_most": _records(moved), "note": diff.self_cosine_note}, indent=2))
        return
    for line in [*diff.coverage.lines(before, after), diff.self_cosine_note]:
        if line:
            print(line)
    print(f"\nmean top-{diff.k} neighbour overlap (Jaccard): {diff.mean_overlap:.3f}\n")
    print_table(diff.categories.round(3).to_dict("records"), list(diff.categories.columns))
    print(f"\nmoved most (lowest overlap first, top {len(moved)}):")
    print_table(moved.round(3).to_dict("records"), list(moved.columns))


def add_map_diff_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `map-diff`: errors surface as VitrineError for core.cli.main.main to report (exit 2)."""
    p = subparsers.add_parser("map-diff", parents=[common_parent],
                              help="compare two runs over the SKUs both cover: items that moved most and "
                                   "neighbourhood churn per category")
    p.add_argument("before", nargs="?", help="representation, e.g. preference@v1/offline/efficientnet-lite0-tagger "
                                             "(default: another description run)")
    p.add_argument("after", nargs="?", help="representation (default: the active run)")
    p.add_argument("--k", type=int_in(1), default=K, help=f"neighbourhood size (default {K})")
    p.add_argument("--top", type=int_in(1), default=20, help="how many of the most moved items to list")
    p.add_argument("--sku", help="show this item's neighbours under both runs instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_map_diff, reads=True)
