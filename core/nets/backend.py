"""What the bundled models' ONNX Runtime paths share: where exports live, how they are written, how they run."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import settings

if TYPE_CHECKING:
    import onnxruntime


def has_onnx() -> bool:
    """Both onnxruntime (to run) and onnx (which the export stack expects) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def cache_dir() -> Path:
    """Where derived model files live: $VITRINE_CACHE_DIR, else $XDG_CACHE_HOME/vitrine, else ~/.cache/vitrine."""
    return settings().cache_dir


def cached_path(name: str, *parts: str) -> Path:
    """An export's file in the cache, named for what it came from (weights, exporter version) via a short hash."""
    return cache_dir() / f"{name}-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:12]}.onnx"


def write_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """write(tmp) then rename: two processes exporting at once each finish a whole file, and none reads half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")  # one per writer, even in one process
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def cpu_session(path: Path, threads: int | None = None) -> onnxruntime.InferenceSession:
    """A CPU session with full graph optimisation, one thread per available core unless told, and no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # busy-waiting starves shared cores
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
