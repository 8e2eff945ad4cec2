"""`vitrine ...` (also `python -m core`): the command-line contract (see README); errors go to stderr, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core import __version__
from core.access.actor import acting_as, os_user
from core.cli.access import add_access_commands, cli_actor
from core.cli.app import add_app_command
from core.cli.arguments import int_in
from core.cli.connection import add_connection_command
from core.cli.engine import add_engine_argument, engine_of
from core.cli.evaluate import add_evaluate_command
from core.cli.export import add_export_command
from core.cli.frontier import add_frontier_command
from core.cli.maintenance import add_maintenance_commands
from core.cli.map import add_map_command
from core.cli.map_diff import add_map_diff_command
from core.cli.output import print_table, progress_bar
from core.cli.prompt import add_prompt_command
from core.cli.qa import add_qa_command
from core.describe.connections import MAX_CONCURRENCY, Connection, get_connection
from core.errors import VitrineError
from core.lab import Lab, open_lab
from core.runs.prompt import run_prompt
from core.workspace import resolve_workspace

if TYPE_CHECKING:
    from core.represent.recommend import Ranking


def _print_recs(recs: Ranking, as_json: bool) -> None:
    for note in recs.pool.notes():  # stderr: the JSON on stdout stays a list of objects
        print(f"note: {note}", file=sys.stderr)
    rows = [r.as_dict() | {"score": round(r.score, 4)} for r in recs]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        r["because"] = r["closest_history"] + (
            " (" + "; ".join(f"{k}: {', '.join(v)}" for k, v in r["shared_attributes"].items()) + ")"
            if r["shared_attributes"] else "")
    print_table(rows, ["sku", "score", "title", "category", "because"])


def cmd_sample(lab: Lab, args: argparse.Namespace) -> None:
    from core.services.sample import build_sample

    update, close = progress_bar("describing sample")
    report = build_sample(lab, progress=update)
    close()
    print(f"ingest: {report.ingest.summary()}")
    for run in report.runs:
        print(f"describe: {run.summary()}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"workspace ready at {lab.workspace.root} with representations: {', '.join(report.representations)}")


def cmd_ingest(lab: Lab, args: argparse.Namespace) -> None:
    from core.catalog.ingest import ingest

    metadata = Path(args.metadata).read_bytes() if args.metadata else None
    report = ingest(lab.store, lab.images, [Path(p) for p in args.paths], metadata)
    for v in report.verdicts:
        if v.status == "rejected":
            print(f"rejected: {v.reason}", file=sys.stderr)
    print(f"ingest: {report.summary()}")
    if report.accepted == 0 and report.count("duplicate") == 0:
        raise VitrineError("no image was ingested")
    from core.services.sync import keep_in_step, plan_sync

    print(f"in step: {', '.join(keep_in_step(lab))}")
    plan = plan_sync(lab)
    if plan.to_describe:  # queued, never silently skipped
        print(f"queued: {plan.estimate()}; run `vitrine sync` to describe them")


def cmd_describe(lab: Lab, args: argparse.Namespace) -> None:
    prompt = lab.prompts.get(args.prompt) if args.prompt else lab.active_prompt()
    connection = _connection(lab, args)
    if args.batch and args.engine != "local":
        raise VitrineError("--batch hands the work to the provider's Batch API: drop --engine")
    if args.batch:
        from core.cli.batch import run_batch_describe

        run_batch_describe(lab, prompt, connection.provider, connection.model or None, connection.base_url or None,
                           args.api_key, limit=args.limit, retry_failed=args.retry_failed, wait=not args.no_wait)
        return
    update, close = progress_bar(f"{prompt.ref} via {connection.label()}")
    report = run_prompt(lab, prompt, connection=connection, api_key=args.api_key, concurrency=args.concurrency,
                        limit=args.limit, retry_failed=args.retry_failed, progress=update, engine=engine_of(args))
    close()
    for sha, error in report.errors[:20]:
        print(f"failed {sha[:12]}: {error}", file=sys.stderr)
    print(f"describe: {report.summary()}")
    print(f"representation: {report.representation}")
    if report.calls and report.failed == report.calls:  # nothing worked: a setting is wrong, not one item
        from core.describe.diagnosis import explain_failures

        raise VitrineError(explain_failures([error for _, error in report.errors]))


def _connection(lab: Lab, args: argparse.Namespace) -> Connection:
    """--connection NAME, or the one --provider/--model/--base-url describe (Lab.connection: where they went before)."""
    if not args.connection:
        return lab.connection(args.provider or "offline", model=args.model, base_url=args.base_url)
    if args.provider or args.model or args.base_url:
        raise VitrineError("--connection already names the provider, model and server: drop --provider, --model "
                           "and --base-url")
    return get_connection(lab.store, args.connection)


def cmd_representations(lab: Lab, args: argparse.Namespace) -> None:
    from core.represent.coverage import list_representations

    columns = ["name", "kind", "dim", "count", "catalogue", "coverage", "stale", "missing", "encoder", "updated_at"]
    rows = list_representations(lab)[columns].to_dict("records")
    if args.json:
        print(json.dumps(rows, indent=2, default=_plain))
    else:
        print_table(rows, columns)


def cmd_sync(lab: Lab, args: argparse.Namespace) -> None:
    from core.services.sync import plan_sync, sync

    print(f"plan: {plan_sync(lab).estimate()}")
    update, close = progress_bar("sync")
    try:
        report = sync(lab, allow_hosted=args.yes, progress=update, engine=engine_of(args))
    finally:
        close()
    for line in report.lines():
        print(line)


def cmd_show(lab: Lab, args: argparse.Namespace) -> None:
    from core.services.item_view import show_item

    shown = show_item(lab, args.sku)
    if args.json:
        print(json.dumps(shown, indent=2, default=_plain))
        return
    for key, value in shown["item"].items():
        print(f"{key}: {value}")
    for rep in shown["representations"]:
        print(f"\n[{rep['state']}] {rep['name']}")
        if desc := rep.get("description"):
            print(f"  {'edited: ' if desc['edited'] else ''}{desc['text'] or desc['error']}")


def _plain(value: object) -> object:
    """numpy scalars and other leftovers as plain JSON values."""
    return value.item() if hasattr(value, "item") else str(value)


def cmd_recommend(lab: Lab, args: argparse.Namespace) -> None:
    from core.represent.recommend import recommend

    history = [s.strip() for s in args.history.split(",") if s.strip()]
    _print_recs(recommend(lab, history, args.k, args.representation), args.json)


def cmd_search(lab: Lab, args: argparse.Namespace) -> None:
    from core.represent.recommend import search

    _print_recs(search(lab, args.query, args.k, args.representation), args.json)


def cmd_history(lab: Lab, args: argparse.Namespace) -> None:
    from core.catalog.history import table_history

    if args.table:
        rows = table_history(lab.store, args.table)
    else:
        rows = [{"table": t, "version": (h := table_history(lab.store, t)[-1])["version"], "rows": h["rows"]}
                for t in sorted(lab.store.table_names())]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, list(rows[0]) if rows else ["table"])


def cmd_restore(lab: Lab, args: argparse.Namespace) -> None:
    from core.catalog.history import restore_version, undo_last_delete

    if args.undo_delete:
        for line in undo_last_delete(lab.store).lines():
            print(line)
        return
    if args.version is None or not args.table:
        raise VitrineError("give VERSION and --table, or --undo-delete")
    new = restore_version(lab.store, args.table, args.version)
    print(f"{args.table}: version {args.version} restored as version {new}")


def cmd_maps_warmup(_lab: None, _args: argparse.Namespace) -> None:
    from core.represent.maps import warm_up

    warm_up()
    print("map kernels compiled and cached")


READ_COMMANDS = ("representations", "recommend", "search", "show", "history", "restore", "evaluate", "sync")


def _lab(args: argparse.Namespace) -> Lab:
    """A command that reads a catalogue refuses a workspace that isn't there, instead of creating an empty one and
    printing a normal-looking, empty report."""
    workspace = resolve_workspace(args.workspace)
    if getattr(args, "reads", False) and not workspace.exists():
        raise VitrineError(f"no workspace at {workspace.root}: check --workspace (or $VITRINE_WORKSPACE), or "
                           "create one with `vitrine ingest` or `vitrine sample`")
    return open_lab(workspace)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vitrine", description="Vitrine merchandising lab")
    parser.add_argument("--version", action="version", version=f"vitrine {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", help="workspace folder (default: $VITRINE_WORKSPACE or ./workspace)")
    common.add_argument("--user", help="who the audit log names for this command (default: the OS user)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", parents=[common], help="build the full sample workspace from sample_catalog/")
    p.set_defaults(fn=cmd_sample)

    p = sub.add_parser("ingest", parents=[common], help="ingest a folder, .zip or image files")
    p.add_argument("paths", nargs="+")
    p.add_argument("--metadata", help="CSV with sku,title,category,image (+ any extra columns)")
    p.set_defaults(fn=cmd_ingest)

    p = sub.add_parser("describe", parents=[common], help="describe the catalogue with a prompt and provider")
    p.add_argument("--prompt", help="NAME or NAME@VERSION (default: the active prompt)")
    p.add_argument("--connection", metavar="NAME", help="a stored connection (`vitrine connection list`)")
    p.add_argument("--provider", help="offline (default) | openai | anthropic | simulated (--model "
                   "simulated-p0.75: the sample's ground truth, each facet right with that probability)")
    p.add_argument("--model")
    p.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://localhost:11434/v1 (Ollama)")
    p.add_argument("--api-key", help="the key for this run (never stored); OPENAI_API_KEY goes only to OpenAI")
    p.add_argument("--concurrency", type=int_in(1, MAX_CONCURRENCY),
                   help=f"requests in flight, 1-{MAX_CONCURRENCY} (default: the connection's, else 4)")
    p.add_argument("--limit", type=int_in(1), help="describe at most this many items (at least 1)")
    p.add_argument("--retry-failed", action="store_true", help="call the provider again for recorded failures")
    p.add_argument("--batch", action="store_true",
                   help="use the provider's Batch API (about half price; resumable: rerun to collect results)")
    p.add_argument("--no-wait", action="store_true", help="with --batch: submit and return without polling")
    add_engine_argument(p)
    p.set_defaults(fn=cmd_describe)

    p = sub.add_parser("representations", parents=[common],
                       help="list representations with their coverage of the catalogue (count, stale, missing)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_representations)

    p = sub.add_parser("sync", parents=[common], help="bring title, visual and the active description run to "
                                                       "full, fresh coverage (estimate first)")
    p.add_argument("--yes", action="store_true", help="allow calls to a hosted (possibly paid) provider")
    add_engine_argument(p)
    p.set_defaults(fn=cmd_sync)

    p = sub.add_parser("show", parents=[common], help="one item: each representation's freshness and description")
    p.add_argument("sku")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_show)

    for name, fn, helptext in (("recommend", cmd_recommend, "recommend for a history of SKUs"),
                               ("search", cmd_search, "free-text search over descriptions")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        if name == "recommend":
            p.add_argument("--history", required=True, help="SKU[,SKU...]")
        else:
            p.add_argument("query")
        p.add_argument("--k", type=int, default=10,
                       help="how many results (at least 1; more than the candidates lists them all, with a note)")
        p.add_argument("--representation")
        p.add_argument("--json", action="store_true")
        p.set_defaults(fn=fn)
    p = sub.add_parser("history", parents=[common], help="list tables, or one table's versions")
    p.add_argument("--table")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_history)

    p = sub.add_parser("restore", parents=[common], help="restore a table version (undo), as a new version")
    p.add_argument("version", nargs="?", type=int)
    p.add_argument("--table")
    p.add_argument("--undo-delete", action="store_true",
                   help="bring back the items removed by the last delete, keeping every later change")
    p.set_defaults(fn=cmd_restore)

    p = sub.add_parser("maps-warmup", help="compile UMAP's kernels into numba's disk cache (make install runs it)")
    p.set_defaults(fn=cmd_maps_warmup, needs_lab=False)

    add_evaluate_command(sub, common)
    add_maintenance_commands(sub, common)
    add_export_command(sub, common)
    add_map_command(sub, common)
    add_qa_command(sub, common)
    add_map_diff_command(sub, common)
    add_frontier_command(sub, common)
    add_prompt_command(sub, common)
    add_connection_command(sub, common)
    add_app_command(sub)
    add_access_commands(sub, common)
    for name in READ_COMMANDS:
        sub.choices[name].set_defaults(reads=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with acting_as(cli_actor(getattr(args, "user", None)) or os_user()):
            code = args.fn(_lab(args) if getattr(args, "needs_lab", True) else None, args)
    except (VitrineError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped: nothing new was sent after Ctrl-C; every finished result was kept (run the same command "
              "to continue where it stopped)", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0
