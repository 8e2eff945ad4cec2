"""One-off jobs in a fresh worker process: the slow work the app starts early (image colours, the default map)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any


def in_worker_process(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
    """Run fn(*args, **kwargs) in a new process that exits once it is done.

    A process, not a thread: numba kernels and long numpy loops hold the GIL for seconds, which would stall every
    page the server renders meanwhile. Spawned, not forked, because the server process runs many threads.
    """
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
    try:
        return pool.submit(fn, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)
