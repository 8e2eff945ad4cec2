"""What the bundled networks share: choosing ONNX Runtime or PyTorch, exporting once, checking, falling back."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from core.config import settings

if TYPE_CHECKING:
    import onnxruntime

BACKENDS = ("auto", "onnxruntime", "torch")
In = TypeVar("In")
Out = TypeVar("Out")


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


_thread_budget: int | None = None  # set_thread_budget: the cores this process may use when it shares a node


def set_thread_budget(threads: int | None) -> None:
    """Cap the threads of sessions made from now on in this process: a Ray actor shares its node's cores with its
    sibling actors, so sizing by CPU affinity would start cores x actors threads (None: back to affinity)."""
    global _thread_budget
    if threads is not None and threads < 1:
        raise ValueError(f"a thread budget is at least 1, not {threads}")
    _thread_budget = threads


def cpu_threads() -> int:
    """Threads this process may run at once: its budget when it has one, else every core it may run on."""
    return _thread_budget or len(os.sched_getaffinity(0))


def cpu_session(path: Path, threads: int | None = None) -> onnxruntime.InferenceSession:
    """A CPU session with full graph optimisation, one thread per core this process may use unless told (within
    its budget either way), and no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = min(threads or cpu_threads(), cpu_threads())
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # busy-waiting starves shared cores
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class BackendFallbackWarning(RuntimeWarning):
    """A network asked to run on ONNX Runtime ("auto") runs on PyTorch instead: slower, same outputs."""


@dataclass(frozen=True)
class Network(Generic[In, Out]):
    """What choose_runner needs from one bundled network: both ways to run it, its export and the export's check."""

    name: str  # for messages, e.g. "EfficientNet-Lite0"
    onnx_path: Path  # where the checked export is cached (cached_path)
    torch_runner: Callable[[], Callable[[In], Out]]  # loads the PyTorch model; the reference and the fallback
    export: Callable[[Path], None]  # writes the ONNX graph to the given (temporary) file
    onnx_runner: Callable[[Path], Callable[[In], Out]]  # an ONNX Runtime session on a file, wrapped like torch's
    sample: In  # inputs both runners get before an export is kept
    tolerance: float  # largest |ONNX - PyTorch| over every output accepted on `sample`


def choose_runner(net: Network[In, Out], requested: str) -> tuple[Callable[[In], Out], str]:
    """(runner, "onnxruntime" | "torch"): ONNX Runtime unless told "torch"; under "auto" any failure warns and
    falls back to PyTorch, while an explicit "onnxruntime" raises instead of silently running something else."""
    torch_runner = functools.cache(net.torch_runner)  # built at most once: for the check, then maybe as fallback
    if requested == "torch":
        return torch_runner(), "torch"
    if requested == "auto" and not has_onnx():
        warnings.warn(f"{net.name}: onnxruntime/onnx are not installed; running on PyTorch",
                      BackendFallbackWarning, stacklevel=2)
        return torch_runner(), "torch"
    try:
        return _checked_onnx_runner(net, torch_runner), "onnxruntime"
    except Exception as exc:
        if requested == "onnxruntime":
            raise
        warnings.warn(f"{net.name} on ONNX Runtime failed ({type(exc).__name__}: {exc}; export {net.onnx_path}); "
                      "running on PyTorch", BackendFallbackWarning, stacklevel=2)
        return torch_runner(), "torch"


def _checked_onnx_runner(net: Network[In, Out], torch_runner: Callable[[], Callable[[In], Out]]) -> Callable[[In], Out]:
    """The cached export's runner, exporting and checking it first if it is not there yet."""
    if not net.onnx_path.exists():

        def write(tmp: Path) -> None:
            net.export(tmp)
            drift = max_abs_diff(net.onnx_runner(tmp)(net.sample), torch_runner()(net.sample))
            if not drift <= net.tolerance:  # NaN fails too
                raise RuntimeError(f"ONNX export differs from PyTorch by {drift:.2e} (> {net.tolerance:.0e})")

        write_atomically(net.onnx_path, write)
    return net.onnx_runner(net.onnx_path)


def max_abs_diff(got: Any, expected: Any) -> float:
    """Largest |got - expected| over an output array or a tuple of them (NaN if any is NaN); shapes must agree."""
    diffs = [0.0]
    for g, e in zip(_outputs(got), _outputs(expected), strict=True):
        if g.shape != e.shape:
            raise RuntimeError(f"ONNX output shape {g.shape} differs from PyTorch's {e.shape}")
        diffs.append(float(np.abs(g - e).max(initial=0.0)))
    return float(np.max(diffs))  # not builtin max, which drops a NaN that is not first


def _outputs(result: Any) -> list[np.ndarray]:
    """A runner's result as a list of float64 arrays, whether it returns one output or a tuple of them."""
    return [np.asarray(r, np.float64) for r in (result if isinstance(result, tuple) else (result,))]


class LazyNetwork(Generic[In, Out]):
    """A network's runner, chosen and loaded on first use, once, whichever thread asks first."""

    def __init__(self, kind: str, requested: str, network: Callable[[], Network[In, Out]]) -> None:
        if requested not in BACKENDS:
            raise ValueError(f"unknown {kind} backend {requested!r}; choose auto, onnxruntime or torch")
        self.requested = requested
        self._network = network
        self._lock = threading.Lock()
        self._loaded: tuple[Callable[[In], Out], str] | None = None

    def runner(self) -> Callable[[In], Out]:
        """The loaded runner; the first call exports, checks or falls back as choose_runner decides."""
        return self._load()[0]

    @property
    def backend(self) -> str:
        """The backend actually in use, "onnxruntime" or "torch" (loads the network)."""
        return self._load()[1]

    def _load(self) -> tuple[Callable[[In], Out], str]:
        with self._lock:
            if self._loaded is None:
                self._loaded = choose_runner(self._network(), self.requested)
            return self._loaded
