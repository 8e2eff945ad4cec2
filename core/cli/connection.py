"""`vitrine connection add|list|test|remove`: named ways to reach an LVLM, stored in the workspace (never a key)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.arguments import int_in
from core.cli.output import print_table
from core.describe.connections import MAX_CONCURRENCY, Connection, add_connection, remove_connection
from core.lab import Lab
from core.services.connection_check import try_connection
from core.services.summary import connection_status

LIST_COLUMNS = ["name", "provider", "model", "base_url", "where", "timeout", "item_deadline", "concurrency",
                "structured_mode", "available", "key"]
DEFAULTED = ("timeout", "item_deadline", "image_max_side", "detail")  # None: the provider's default


def cmd_add(lab: Lab, args: argparse.Namespace) -> None:
    added = add_connection(lab.store, Connection(
        name=args.name, provider=args.provider, model=args.model, base_url=args.base_url or "", timeout=args.timeout,
        item_deadline=args.item_deadline, concurrency=args.concurrency, image_max_side=args.image_max_side,
        detail=args.detail))
    print(f"added {added.label()}; its key, if it needs one: --api-key, or {added.key_var} in the environment or "
          ".streamlit/secrets.toml")


def cmd_list(lab: Lab, args: argparse.Namespace) -> None:
    rows = [s.connection.model_dump(exclude={"capabilities"}) | {
        "where": s.where, "structured_mode": s.connection.capabilities.get("structured_mode", ""),
        "available": s.available, "key": s.detail} for s in connection_status(lab)]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print_table([r | {k: "default" for k in DEFAULTED if r[k] is None} for r in rows], LIST_COLUMNS)
    else:
        print("no connections yet: `vitrine connection add NAME --provider openai --model M --base-url URL`")


def cmd_test(lab: Lab, args: argparse.Namespace) -> None:
    image = Path(args.image) if args.image else None
    check = try_connection(lab, args.name, image.read_bytes() if image else None, image.name if image else "upload",
                           api_key=args.api_key)
    print(f"sent: {check.image} with {lab.active_prompt().ref}")
    print(f"reply: {check.reply}")
    for facet, values in check.attributes.items():
        print(f"  {facet}: {', '.join(values)}")
    print(f"latency: {check.latency_ms:,.0f} ms")
    if mode := check.connection.capabilities.get("structured_mode"):
        print(f"structured output: {mode} (remembered for this connection)")


def cmd_remove(lab: Lab, args: argparse.Namespace) -> None:
    removed = remove_connection(lab.store, args.name)
    print(f"removed {removed.label()}; runs made through it still go to the same server")


def add_connection_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `connection add|list|test|remove`; bad input surfaces as ConfigError for core.cli.main.main."""
    p = subparsers.add_parser("connection", help="named connections to an LVLM server or API (stored, keys never)")
    actions = p.add_subparsers(dest="connection_command", required=True)

    s = actions.add_parser("add", parents=[common_parent], help="store a named connection")
    s.add_argument("name", metavar="NAME", help="lowercase letters, digits and '-' (e.g. ollama)")
    s.add_argument("--provider", required=True, help="openai (any OpenAI-compatible server) or anthropic")
    s.add_argument("--model", required=True, help="the model as the server names it, e.g. llava:7b")
    s.add_argument("--base-url", help="the server, e.g. http://localhost:11434/v1 (default: the provider's API)")
    s.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default: the provider's)")
    s.add_argument("--item-deadline", type=float, metavar="S",
                   help="seconds per item, retries included (default: the provider's)")
    s.add_argument("--image-max-side", type=int_in(1), metavar="PX",
                   help="downscale images to this long side before sending (default: the provider's)")
    s.add_argument("--detail", choices=("auto", "low", "high"), help="OpenAI's image detail (default: the server's)")
    s.add_argument("--concurrency", type=int_in(1, MAX_CONCURRENCY), default=4, metavar="N",
                   help=f"requests in flight, 1-{MAX_CONCURRENCY} (default 4)")
    s.set_defaults(fn=cmd_add)

    s = actions.add_parser("list", parents=[common_parent], help="list connections and whether each can run now")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_list, reads=True)

    s = actions.add_parser("test", parents=[common_parent], help="send one image; print the reply and the latency")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--image", metavar="FILE", help="the image to send (default: the catalogue's first item)")
    s.add_argument("--api-key", help="the key for this test (never stored)")
    s.set_defaults(fn=cmd_test, reads=True)

    s = actions.add_parser("remove", parents=[common_parent], help="forget a connection (runs keep their server)")
    s.add_argument("name", metavar="NAME")
    s.set_defaults(fn=cmd_remove, reads=True)
