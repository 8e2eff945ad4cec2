"""What every command prints with: a progress bar on stderr and a plain aligned table on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

from core.models import Progress


def progress_bar(desc: str) -> tuple[Progress, Callable[[], None]]:
    """A tqdm bar on stderr driven by core's (done, total, label) callbacks."""
    bar = tqdm(desc=desc, unit="img", file=sys.stderr, leave=False)

    def update(done: int, total: int, _label: str) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))
