"""Describe many items with one prompt version and provider: cached, concurrent, resumable."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import pandas as pd

from core.describe.base import Describer
from core.describe.identity import item_key, stamped
from core.describe.prompts import PromptVersion
from core.errors import ConfigError, VitrineError
from core.lab import Lab
from core.models import Description, ImageRef, Progress

FLUSH_EVERY = 16  # results per write: batched appends, yet a crash loses little work
FLUSH_SECONDS = 2.0  # ...and at least this often on a slow provider, so a stop or crash keeps nearly everything
COMPACT_EVERY = 4096  # results between compaction checks in a long run (each flush adds a LanceDB fragment)
BATCH_SIZE = 32  # images per describe_many call (offline tagger batches its CNN)
BATCHES_IN_FLIGHT = 2  # in order; one batch's CNN overlaps the next one's decoding, tagging and rendering


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
                   stop: threading.Event | None = None) -> RunReport:
    """Describe each distinct (image, rendered inputs) once; skip what the cache already holds; record per-item
    errors. Items sharing an image but not a title get their own descriptions; identical inputs share one.

    Cancelling (setting `stop`, Ctrl-C, or any exception raised through `progress`, as Streamlit raises when the
    user presses Stop or leaves the page) sends no new request, waits for the ones in flight (at most one request
    timeout), and keeps every finished description; the exception, if any, is raised again afterwards."""
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

    results = _run(describer, todo, prompt, concurrency, stop)
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


def _run(describer: Describer, todo: list[ImageRef], prompt: PromptVersion, concurrency: int,
         stop: threading.Event) -> Iterator[tuple[ImageRef, Description]]:
    """Yield (ref, description): describe_many providers in batches, in order, the next batch already under way;
    others one call per item on threads, at most `concurrency` in flight, as they finish. Once `stop` is set
    nothing new starts; what is in flight is still yielded. Ctrl-C sets it, drains, then raises."""
    many = getattr(describer, "describe_many", None)
    interrupted: KeyboardInterrupt | None = None
    if many is not None:
        batches = iter([todo[i:i + BATCH_SIZE] for i in range(0, len(todo), BATCH_SIZE)])
        with ThreadPoolExecutor(max_workers=BATCHES_IN_FLIGHT, thread_name_prefix="vitrine-describe") as pool:
            ahead: deque[tuple[list[ImageRef], Future]] = deque()

            def refill_batches() -> None:
                while len(ahead) < BATCHES_IN_FLIGHT and not stop.is_set() and (batch := next(batches, None)):
                    ahead.append((batch, pool.submit(many, batch, prompt)))

            refill_batches()
            while ahead:
                batch, future = ahead.popleft()
                refill_batches()
                try:
                    described = future.result()
                except KeyboardInterrupt as exc:
                    stop.set()
                    interrupted, described = exc, future.result()
                except Exception:
                    described = [_safe_describe(describer, ref, prompt) for ref in batch]
                yield from zip(batch, described, strict=True)
    else:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            queued = iter(todo)
            running: dict[Future, ImageRef] = {}

            def refill() -> None:
                while len(running) < max(1, concurrency) and not stop.is_set() and (ref := next(queued, None)):
                    running[pool.submit(_safe_describe, describer, ref, prompt)] = ref

            refill()
            while running:
                try:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt as exc:
                    stop.set()
                    interrupted = exc
                    continue
                for future in finished:
                    yield running.pop(future), future.result()
                refill()
    if interrupted is not None:
        raise interrupted


def _safe_describe(describer: Describer, ref: ImageRef, prompt: PromptVersion) -> Description:
    """A failure becomes a recorded error row, so one bad item never ends the run; config errors do end it."""
    try:
        return describer.describe(ref, prompt)
    except ConfigError:
        raise  # a missing key fails every item alike: stop instead of caching N identical failures
    except Exception as exc:
        return Description(image_sha256=ref.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=describer.provider, model=describer.model,
                           error=f"{type(exc).__name__}: {exc}")
