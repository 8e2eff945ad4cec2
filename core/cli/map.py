"""`vitrine map --html FILE`: the semantic map as one offline HTML file, as the Map page's download (wired in by
core/cli/main.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import VitrineError
from core.lab import Lab
from core.represent.map_figure import map_html
from core.represent.maps import colour_options, project
from core.represent.recommend import default_representation


def cmd_map(lab: Lab, args: argparse.Namespace) -> None:
    name = args.representation or default_representation(lab)
    options = colour_options(project(lab, name).points)
    if args.colour_by not in options:
        raise VitrineError(f"cannot colour {name!r} by {args.colour_by!r}; choose one of: {', '.join(options)}")
    Path(args.html).write_text(map_html(lab, name, args.colour_by, args.search), encoding="utf-8")
    print(f"map of {name} written to {args.html}")


def add_map_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `map`."""
    p = subparsers.add_parser("map", parents=[common_parent],
                              help="write a representation's semantic map as one HTML file that opens offline")
    p.add_argument("--html", required=True, metavar="FILE")
    p.add_argument("--representation", help="default: the one the app opens with")
    p.add_argument("--colour-by", default="category", help="category, a facet, or prompt_version")
    p.add_argument("--search", default="", help="ring the items whose SKU, title or description has every word")
    p.set_defaults(fn=cmd_map)
