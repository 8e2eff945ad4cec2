"""Describe many items with one prompt version and provider: cached, concurrent, resumable."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import pandas as pd

from core.describe.base import Describer
from core.describe.identity import item_key, stamped
from core.describe.prompts import PromptVersion
from core.errors import ConfigError, VitrineError
from core.lab import Lab
from core.models import Description, ImageRef, Progress

FLUSH_EVERY = 16  # results per write: batched appends, yet a crash loses little work
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

    def summary(self) -> str:
        return (f"{self.prompt_ref} via {self.provider}/{self.model}: {self.images} images, "
                f"{self.cached} cached, {self.calls} described, {self.failed} failed, "
                f"${self.cost_usd:.4f}, {self.elapsed_s:.1f}s")


def select_items(lab: Lab, *, skus: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    items = lab.store.items()
    if skus:
        unknown = sorted(set(skus) - set(items["sku"]))
        if unknown:
            raise VitrineError(f"unknown SKU(s): {', '.join(unknown[:10])}")
        items = items[items["sku"].isin(skus)]
    return items.head(limit) if limit else items


def describe_items(lab: Lab, items: pd.DataFrame, prompt: PromptVersion, describer: Describer, *,
                   concurrency: int = 4, retry_failed: bool = False, progress: Progress | None = None) -> RunReport:
    """Describe each distinct (image, rendered inputs) once; skip what the cache already holds; record per-item
    errors. Items sharing an image but not a title get their own descriptions; identical inputs share one."""
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

    def record(desc: Description) -> None:
        report.calls += 1
        report.input_tokens += desc.input_tokens
        report.output_tokens += desc.output_tokens
        report.cost_usd += desc.cost_usd
        if desc.error:
            report.failed += 1
            report.errors.append((desc.image_sha256, desc.error))
        pending.append(desc)
        if len(pending) >= FLUSH_EVERY:
            lab.store.upsert_descriptions(pending)
            pending.clear()
        if report.calls % COMPACT_EVERY == 0:  # merge-inserts slow down as fragments pile up in a long run
            lab.store.optimize_if_fragmented()
        if progress:
            progress(report.calls, len(todo), desc.image_sha256)

    for ref, desc in _run(describer, todo, prompt, concurrency):
        record(stamped(desc, prompt, ref.context))
    lab.store.upsert_descriptions(pending)
    report.elapsed_s = time.perf_counter() - started
    return report


def _run(describer: Describer, todo: list[ImageRef], prompt: PromptVersion,
         concurrency: int) -> Iterator[tuple[ImageRef, Description]]:
    """Yield (ref, description): describe_many providers in batches, in order, the next batch already under way;
    others one call per item on threads, as they finish."""
    many = getattr(describer, "describe_many", None)
    if many is not None:
        batches = [todo[i:i + BATCH_SIZE] for i in range(0, len(todo), BATCH_SIZE)]
        with ThreadPoolExecutor(max_workers=BATCHES_IN_FLIGHT, thread_name_prefix="vitrine-describe") as pool:
            ahead = deque(pool.submit(many, batch, prompt) for batch in batches[:BATCHES_IN_FLIGHT])
            for i, batch in enumerate(batches):
                future = ahead.popleft()
                if i + BATCHES_IN_FLIGHT < len(batches):
                    ahead.append(pool.submit(many, batches[i + BATCHES_IN_FLIGHT], prompt))
                try:
                    described = future.result()
                except Exception:
                    described = [_safe_describe(describer, ref, prompt) for ref in batch]
                yield from zip(batch, described, strict=True)
        return
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(_safe_describe, describer, ref, prompt): ref for ref in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()


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
