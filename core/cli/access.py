"""`vitrine audit` (who did what, when) and `vitrine roles` (who may change data), plus the global --user."""

from __future__ import annotations

import argparse
import json

from core.access.actor import Actor
from core.access.audit import events, parse_since
from core.access.roles import Role, RoleMap, role_map, set_roles
from core.cli.output import print_table
from core.lab import Lab

COLUMNS = ["at", "actor", "via", "action", "skus", "detail"]


def cli_actor(user: str | None) -> Actor | None:
    """--user NAME acts as NAME (stated, not verified: the log records it as via 'cli'); None: the OS user."""
    return Actor(user.strip(), "cli") if user and user.strip() else None


def cmd_audit(lab: Lab, args: argparse.Namespace) -> None:
    frame = events(lab.store, sku=args.sku, since=parse_since(args.since) if args.since else None)
    rows = frame.to_dict("records")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print_table([{**r, "skus": ", ".join(r["skus"])} for r in rows], COLUMNS)


def cmd_roles(lab: Lab, args: argparse.Namespace) -> None:
    current = role_map(lab.store)
    if args.default or args.editor or args.viewer:
        current = set_roles(lab.store, RoleMap(Role(args.default) if args.default else current.default,
                                               tuple(dict.fromkeys([*current.editors, *args.editor])),
                                               tuple(dict.fromkeys([*current.viewers, *args.viewer]))))
    print(f"default: {current.default.value}")
    print(f"editors: {', '.join(current.editors) or '-'}")
    print(f"viewers: {', '.join(current.viewers) or '-'}")


def add_access_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("audit", parents=[common], help="the append-only audit log: who did what, when (newest first)")
    p.add_argument("--sku", help="only events naming this SKU")
    p.add_argument("--since", metavar="T", help="a date/time (2026-03-01, 2026-03-01T09:30) or an age (90m, 24h, 7d)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_audit, reads=True)

    p = sub.add_parser("roles", parents=[common], help="show or extend who is an editor or a viewer (by identity)")
    p.add_argument("--editor", action="append", default=[], metavar="PATTERN",
                   help="an identity or pattern (ana@shop.com, *@merch.shop.com) that may change data; repeatable")
    p.add_argument("--viewer", action="append", default=[], metavar="PATTERN",
                   help="an identity or pattern that may only look (wins over --editor); repeatable")
    p.add_argument("--default", choices=[r.value for r in Role], help="the role of everyone else")
    p.set_defaults(fn=cmd_roles)
