"""`vitrine delete`, `vitrine undo` and `vitrine doctor`: destructive actions that can be taken back, and repair."""

from __future__ import annotations

import argparse

from core.catalog.journal import last_entry, undo
from core.lab import Lab


def cmd_delete(lab: Lab, args: argparse.Namespace) -> None:
    from core.services.upkeep import delete_items

    deleted = delete_items(lab, args.skus)
    print(f"deleted {deleted} item(s) and their vectors; `vitrine undo` brings them back")


def cmd_undo(lab: Lab, _args: argparse.Namespace) -> None:
    entry = last_entry(lab.store)
    if entry is not None:
        print(entry.confirmation())
    for line in undo(lab.store).lines():
        print(line)


def cmd_doctor(lab: Lab, _args: argparse.Namespace) -> None:
    from core.services.doctor import repair

    for line in repair(lab).lines():
        print(line)


def add_maintenance_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("delete", parents=[common], help="delete items and their vectors (undo: `vitrine undo`)")
    p.add_argument("skus", nargs="+", metavar="SKU")
    p.set_defaults(fn=cmd_delete, reads=True)

    p = sub.add_parser("undo", parents=[common], help="undo the last delete, description edit or restore, keeping "
                                                      "every later change; prints what came back")
    p.set_defaults(fn=cmd_undo, reads=True)

    p = sub.add_parser("doctor", parents=[common], help="find and re-embed vectors a crash left missing or stale "
                                                        "(local models only; never calls a describer)")
    p.set_defaults(fn=cmd_doctor, reads=True)
