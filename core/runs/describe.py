"""Describe many items with one prompt version and provider: cached, concurrent, resumable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from core.describe.base import Describer
from core.describe.identity import item_key, stamped
from core.describe.prompts import PromptVersion
from core.engines.base import Engine
from core.engines.local import LOCAL
from core.errors import VitrineError
from core.lab import Lab
from core.models import Description, ImageRef, Progress

FLUSH_EVERY = 16  # results per write: batched appends, yet a crash loses little work
FLUSH_SECONDS = 2.0  # ...and at least this often on a slow provider, so a stop or crash keeps nearly everything
COMPACT_EVERY = 4096  # results between compaction checks in a long run (each flush adds a LanceDB fragment)


@dataclass
class RunReport:
    """What a run did and what it cost; `calls` counts provider invocations (0 on a cached re-run)."""

    prompt_ref: str
    provider: str
    model: str
    items: int = 0
    images: int = 0
    cached: int = 0
    calls: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    representation: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    stopped: bool = False  # cancelled (Ctrl-C, the app's Stop, leaving the page): finished work was kept

    def summary(self) -> str:
        return (f"{self.prompt_ref} via {self.provider}/{self.model}: {self.images} images, "
                f"{self.cached} cached, {self.calls} described, {self.failed} failed, "
                f"${self.cost_usd:.4f}, {self.elapsed_s:.1f}s" + (" (stopped early)" if self.stopped else ""))


def select_items(lab: Lab, *, skus: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    items = lab.store.items()
    if skus:
        unknown = sorted(set(skus) - set(items["sku"]))
        if unknown:
            raise VitrineError(f"unknown SKU(s): {', '.join(unknown[:10])}")
        items = items[items["sku"].isin(skus)]
    return items.head(limit) if limit else items


def describe_items(lab: Lab, items: pd.DataFrame, prompt: PromptVersion, describer: Describer, *,
                   concurrency: int = 4, retry_failed: bool = False, progress: Progress | None = None,
                   stop: threading.Event | None = None, engine: Engine = LOCAL,
                   rebuild: Callable[[], Describer] | None = None) -> RunReport:
    """Describe each distinct (image, rendered inputs) once; skip what the cache already holds; record per-item
    errors. Items sharing an image but not a title get their own descriptions; identical inputs share one.

    Cancelling (setting `stop`, Ctrl-C, or any exception raised through `progress`, as Streamlit raises when the
    user presses Stop or leaves the page) sends no new request, waits for the ones in flight (at most one request
    timeout), and keeps every finished description; the exception, if any, is raised again afterwards.
    Another engine describes where it runs (`rebuild` makes the describer there); keys, cache and writes stay here."""
    started = time.perf_counter()
    report = RunReport(prompt.ref, describer.provider, describer.model, items=len(items))
    refs: dict[str, ImageRef] = {}
    for row in items.to_dict("records"):
        refs.setdefault(item_key(row, prompt, describer.provider, describer.model), lab.image_ref(row))
    report.images = len(refs)
    known = lab.store.description_keys()
    todo = []
    for key, ref in refs.items():
        if key in known and not (retry_failed and known[key]):
            report.cached += 1
        else:
            todo.append(ref)
    pending: list[Description] = []
    stop = stop or threading.Event()
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        lab.store.upsert_descriptions(pending)
        pending.clear()
        last_flush = time.monotonic()

    def record(desc: Description, *, quiet: bool = False) -> None:
        report.calls += 1
        report.input_tokens += desc.input_tokens
        report.output_tokens += desc.output_tokens
        report.cost_usd += desc.cost_usd
        if desc.error:
            report.failed += 1
            report.errors.append((desc.image_sha256, desc.error))
        pending.append(desc)
        if len(pending) >= FLUSH_EVERY or time.monotonic() - last_flush >= FLUSH_SECONDS:
            flush()
        if report.calls % COMPACT_EVERY == 0:  # merge-inserts slow down as fragments pile up in a long run
            lab.store.optimize_if_fragmented()
        if progress and not quiet:
            progress(report.calls, len(todo), desc.image_sha256)

    results = engine.describe(describer, rebuild or (lambda: describer), todo, prompt, concurrency, stop)
    try:
        for ref, desc in results:
            record(stamped(desc, prompt, ref.context))
    except BaseException:
        stop.set()
        for ref, desc in results:  # the requests already in flight: paid for, so kept
            record(stamped(desc, prompt, ref.context), quiet=True)
        raise
    finally:
        report.stopped = stop.is_set()
        flush()
        report.elapsed_s = time.perf_counter() - started
    return report
