"""`vitrine qa`: how often QA's automatic checks flag a run, and a CI gate on it (wired in by core/cli/main.py)."""

from __future__ import annotations

import argparse

from core.lab import Lab
from core.services.flag_rate import flag_rate
from core.services.runs import resolve_run


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a share such as 0.05") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a flag rate lies between 0 and 1 (write 5% as 0.05)")
    return value


def cmd_qa(lab: Lab, args: argparse.Namespace) -> int:
    rate = flag_rate(lab, resolve_run(lab, args.run))
    for line in rate.lines():
        print(line)
    if args.max_flag_rate is None:
        return 0
    gate = rate.gate(args.max_flag_rate)
    print(gate.text())
    return int(not gate.passed)


def add_qa_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `qa`: errors surface as VitrineError for core.cli.main.main to report (exit 2)."""
    p = subparsers.add_parser("qa", parents=[common_parent],
                              help="share of a run's current descriptions that QA's automatic checks flag")
    p.add_argument("--run", metavar="NAME", help="PROMPT@vN/PROVIDER/MODEL (default: the active run)")
    p.add_argument("--max-flag-rate", metavar="SHARE", type=_rate,
                   help="exit 1 when more than this share is flagged, e.g. 0.05")
    p.set_defaults(fn=cmd_qa, reads=True)
