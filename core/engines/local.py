"""The local engine: encoders and describers in this process, describe requests on threads."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from core.catalog.ann import AnnConfig, build_index
from core.catalog.store import Store
from core.describe.base import Describer
from core.describe.prompts import PromptVersion
from core.engines.base import Model, VectorRows
from core.errors import ConfigError
from core.models import Description, ImageRef

BATCH_SIZE = 32  # images per describe_many call (offline tagger batches its CNN)
BATCHES_IN_FLIGHT = 2  # in order; one batch's CNN overlaps the next one's decoding, tagging and rendering


class LocalEngine:
    name = "local"

    def write_vectors(self, store: Store, rows: VectorRows, model: Model) -> None:
        inputs, positions = rows.distinct()
        vectors = model.encode(inputs)[positions]
        store.upsert_vectors(rows.table, rows.dim, rows.skus, rows.shas, rows.text_shas, vectors)

    def describe(self, describer: Describer, rebuild: Callable[[], Describer], todo: list[ImageRef],
                 prompt: PromptVersion, concurrency: int, stop: threading.Event) -> Iterator[tuple[ImageRef,
                                                                                                 Description]]:
        return describe_here(describer, todo, prompt, concurrency, stop)

    def build_index(self, store: Store, table: str, config: AnnConfig) -> float:
        handle = store.vector_table(table)
        assert handle is not None, f"{table} does not exist"
        return build_index(handle, config)


LOCAL = LocalEngine()


def describe_here(describer: Describer, todo: list[ImageRef], prompt: PromptVersion, concurrency: int,
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
                    described = [safe_describe(describer, ref, prompt) for ref in batch]
                yield from zip(batch, described, strict=True)
    else:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            queued = iter(todo)
            running: dict[Future, ImageRef] = {}

            def refill() -> None:
                while len(running) < max(1, concurrency) and not stop.is_set() and (ref := next(queued, None)):
                    running[pool.submit(safe_describe, describer, ref, prompt)] = ref

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


def safe_describe(describer: Describer, ref: ImageRef, prompt: PromptVersion) -> Description:
    """A failure becomes a recorded error row, so one bad item never ends the run; config errors do end it."""
    try:
        return describer.describe(ref, prompt)
    except ConfigError:
        raise  # a missing key fails every item alike: stop instead of caching N identical failures
    except Exception as exc:
        return Description(image_sha256=ref.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=describer.provider, model=describer.model,
                           error=f"{type(exc).__name__}: {exc}")
