"""`vitrine prompt ...`: save a prompt version into the workspace, list the seeds and saved versions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.output import print_table
from core.describe.prompts import DEFAULT_MAX_WORDS, PromptError, PromptVersion
from core.lab import Lab
from core.models import FACETS
from core.services.prompt_versions import save_prompt

LIST_COLUMNS = ["ref", "source", "facets", "max_words", "note", "path"]


def _names(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _read_template(path: Path) -> str:
    """The template text of a file; a prompt file with front matter would smuggle its settings into the text."""
    if not path.is_file():
        raise PromptError(f"template file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read template file {path}: {exc}") from exc
    if text.startswith("---\n"):
        raise PromptError(f"{path} starts with YAML front matter; --template takes the template text only "
                          "(set the rest with --variables, --facets, --max-words, --note)")
    return text


def _base(lab: Lab, name: str) -> PromptVersion | None:
    """The latest version of `name`, whose settings a new version keeps unless a flag changes them."""
    return lab.prompts.get(name) if name in lab.prompts.names() else None


def cmd_prompt_save(lab: Lab, args: argparse.Namespace) -> None:
    template = _read_template(Path(args.template))
    base = _base(lab, args.name)
    saved = save_prompt(
        lab, args.name, template,
        variables=args.variables if args.variables is not None else (base.variables if base else []),
        facets=args.facets if args.facets is not None else (base.facets if base else list(FACETS)),
        max_words=args.max_words if args.max_words is not None else (base.max_words if base else DEFAULT_MAX_WORDS),
        summary=args.note,
    )
    print(f"saved {saved.ref}: {lab.prompts.entry(saved.ref).path}")


def cmd_prompt_list(lab: Lab, args: argparse.Namespace) -> None:
    entries = lab.prompts.entries()
    rows = [{"name": e.prompt.name, "version": e.prompt.version, "ref": e.prompt.ref, "source": e.source,
             "facets": e.prompt.facets, "max_words": e.prompt.max_words, "note": e.prompt.summary,
             "path": str(e.path)} for e in entries]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table([r | {"facets": ",".join(e.prompt.facets)} for r, e in zip(rows, entries, strict=True)],
                    LIST_COLUMNS)


def add_prompt_command(subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser) -> None:
    """Register `prompt save|list`; bad input surfaces as PromptError for core.cli.main.main to report."""
    p = subparsers.add_parser("prompt", help="save prompt versions into the workspace; list seeds and saved ones")
    actions = p.add_subparsers(dest="prompt_command", required=True)

    s = actions.add_parser("save", parents=[common_parent],
                           help="save the next version of NAME into <workspace>/prompts (never overwrites)")
    s.add_argument("name", metavar="NAME", help="prompt name: an existing one gets a new version, a new one v1")
    s.add_argument("--template", required=True, metavar="FILE",
                   help="text file with the template; {variable} for item metadata, {max_words} for the limit")
    s.add_argument("--variables", type=_names, metavar="A,B",
                   help="item metadata the template uses (default: NAME's latest version, else none)")
    s.add_argument("--facets", type=_names, metavar="A,B",
                   help=f"{', '.join(FACETS)} (default: NAME's latest version, else all)")
    s.add_argument("--max-words", type=int, metavar="N",
                   help=f"word limit (default: NAME's latest version, else {DEFAULT_MAX_WORDS})")
    s.add_argument("--note", default="", metavar="TEXT", help="change note stored with the version")
    s.set_defaults(fn=cmd_prompt_save)

    s = actions.add_parser("list", parents=[common_parent], help="list seed and workspace prompt versions")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_prompt_list)
