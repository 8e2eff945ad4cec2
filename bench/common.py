"""What every performance benchmark shares: the machine line, side-by-side timing and BENCHMARKS.md sections."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LANCE_LOG", "error")  # lance's Rust deprecation notices would flood the output
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.markdown_sections import splice_section  # noqa: E402


def machine() -> str:
    """CPU, cores, memory and the load when the run started (these machines are shared and noisy)."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine())
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal")), 0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores, {mem_kb / 2**20:.0f} GiB RAM, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def interleaved(paths: dict[str, Callable[[int], object]], rounds: int,
                caps: dict[str, int] | None = None) -> dict[str, list[float]]:
    """Time each path once per round, rotating the order, so load spikes hit every path alike; a path in
    `caps` runs only in its first rounds (for references that take seconds a query)."""
    names = list(paths)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if r < (caps or {}).get(name, rounds):
                seconds[name].append(timed(lambda name=name, r=r: paths[name](r))[0])
    return seconds


def table(rows: list[dict], columns: list[str]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_section(key: str, title: str, body: str, command: str) -> None:
    """Replace only this benchmark's section of BENCHMARKS.md (other sections belong to other scripts)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    splice_section(BENCHMARKS, key, f"## {title}\n\nMachine: {machine()}. Date: {stamp}. "
                   f"Command: `{command}` (all of them: `make bench`).\n\n{body.strip()}", "Benchmarks")
    print(f"wrote the {key} section of {BENCHMARKS}")
