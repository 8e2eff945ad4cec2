"""`vitrine export descriptions`: product copy for a PIM, to a file or stdout (wired in by core/cli/main.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import VitrineError
from core.lab import Lab
from core.services.export import COPY_FORMATS, copy_bytes, product_copy


def cmd_export_descriptions(lab: Lab, args: argparse.Namespace) -> None:
    if args.format == "parquet" and not args.out:
        raise VitrineError("parquet is a binary format: give --out FILE")
    export = product_copy(lab, args.run, approved_only=args.approved)
    data = copy_bytes(export.frame, args.format)
    for note in export.notes():  # stderr: stdout carries only the export
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"{len(export.frame):,} description(s) of {export.run} written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def add_export_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `export`; its kinds of export are subcommands (today: descriptions)."""
    p = subparsers.add_parser("export", help="take results out of Vitrine (product copy for a PIM)")
    kinds = p.add_subparsers(dest="export", required=True)
    d = kinds.add_parser("descriptions", parents=[common_parent],
                         help="each item's current description under a run, with facets and QA status, per SKU")
    d.add_argument("--approved", action="store_true",
                   help="only descriptions approved in QA (edited-and-approved included)")
    d.add_argument("--run", metavar="NAME", help="PROMPT@vN/PROVIDER/MODEL (default: the active run)")
    d.add_argument("--format", choices=COPY_FORMATS, required=True,
                   help="csv (formula-safe, UTF-8 with BOM), jsonl, or parquet (needs --out)")
    d.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    d.set_defaults(fn=cmd_export_descriptions, reads=True)
