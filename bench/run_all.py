"""`make bench`: run every benchmark script in bench/ with --write, so BENCHMARKS.md is regenerated as a whole.

Usage: python bench/run_all.py [--only retrieval,efficiency] [--skip eval_movielens]

A script is a benchmark when it accepts --write (each owns its own marked section of BENCHMARKS.md). They run
one at a time, in separate processes, because they time things; a failure is reported and the rest still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Performance benchmarks in issue order; any other --write script (accuracy, evaluation) runs first.
ORDER = ["retrieval", "efficiency", "describe_throughput", "ingest_offline", "maps", "maps_large", "housekeeping", "app_browser"]
EXTRA_ARGS = {"retrieval": ["--kinds", "ivf_pq,ivf_hnsw_sq"]}


def scripts() -> list[Path]:
    found = [p for p in sorted(HERE.glob("*.py")) if p.name != Path(__file__).name
             and '"--write"' in p.read_text(encoding="utf-8")]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda p: (p.stem in rank, rank.get(p.stem, 0), p.stem))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated script names (without .py)")
    parser.add_argument("--skip", default="", help="comma-separated script names to leave out")
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    results = []
    for script in scripts():
        if (only and script.stem not in only) or script.stem in skip:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), "--write", *EXTRA_ARGS.get(script.stem, [])],
                               cwd=HERE.parent)
        results.append((script.name, code, time.perf_counter() - started))
    print("\n=== summary ===")
    for name, code, seconds in results:
        print(f"{'ok    ' if code == 0 else 'FAILED'} {name:28s} {seconds:7.0f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
