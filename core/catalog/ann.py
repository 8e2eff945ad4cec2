"""Approximate nearest neighbours for large representations: a LanceDB vector index, built automatically.

Below ANN_MIN_ROWS vectors an exact numpy mat-vec is fast enough and always right, so nothing is built.
Above it, the first request that loads the representation starts building a LanceDB index in a background
thread (requests keep being served exactly meanwhile); once the index exists every process that opens the
table serves from it. The index kind and its search settings were chosen by `bench/retrieval.py`
(BENCHMARKS.md, P1): see PRESETS for what measured best on the 2-core reference machine. Candidates come back
as LanceDB row ids and are re-scored exactly from the in-memory matrix (core.represent.recommend.nearest).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import lancedb
import numpy as np
from lancedb.index import HnswSq, IvfPq

log = logging.getLogger(__name__)

ANN_MIN_ROWS = 200_000  # exact top-k costs ~15-25 ms here on 2 cores (~75-150 ms at 1M); past it, use an index
RETRY_FAILED_BUILD_S = 600.0  # a failed build (disk full, read-only store) is not retried on every request
VECTOR_COLUMN = "vector"
KINDS = ("ivf_pq", "ivf_hnsw_sq")


@dataclass(frozen=True)
class AnnConfig:
    """How to build and query the index; vectors are L2-normalised, so 'dot' distance ranks like cosine."""

    kind: str = "ivf_pq"
    rows_per_partition: int = 4096  # IVF partitions = rows / this (more partitions: faster query, slower build)
    num_sub_vectors: int = 48  # PQ: 384-d / 48 = 8 dims per code
    num_bits: int = 4  # PQ: 4-bit codes train in seconds and scan fast; the exact re-rank restores accuracy
    max_iterations: int = 10  # k-means converges well before the default 50 on embedding data
    sample_rate: int = 64  # k-means training vectors per partition
    hnsw_m: int = 16
    hnsw_ef_construction: int = 100
    nprobes: int = 20
    candidates: int = 30  # fetch candidates x limit rows by compressed distance; the caller re-ranks them exactly
    ef: int = 100  # HNSW search breadth

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown ANN index kind {self.kind!r}; choose one of: {', '.join(KINDS)}")

    def sub_vectors(self, dim: int) -> int:
        """PQ codes for a dimension: the preset's where it divides it (384-d MiniLM), else 8 dims a code (1280-d
        visual features: 48 does not divide 1280, and the index build fails)."""
        return self.num_sub_vectors if dim % self.num_sub_vectors == 0 else max(1, dim // 8)

    def index_config(self, rows: int, dim: int) -> IvfPq | HnswSq:
        partitions = max(1, rows // self.rows_per_partition)
        if self.kind == "ivf_pq":
            return IvfPq(distance_type="dot", num_partitions=partitions, num_sub_vectors=self.sub_vectors(dim),
                         num_bits=self.num_bits, max_iterations=self.max_iterations, sample_rate=self.sample_rate)
        return HnswSq(distance_type="dot", num_partitions=partitions, max_iterations=self.max_iterations,
                      sample_rate=self.sample_rate, m=self.hnsw_m, ef_construction=self.hnsw_ef_construction)


# Tuned on 1M MiniLM-like vectors (bench/retrieval.py, BENCHMARKS.md P1): IVF_PQ builds in ~20 s on 2 cores and,
# re-ranked from the in-memory matrix, serves recommend() at ~6 ms p50 with recall@10 0.98 (LanceDB's own
# refine_factor, which reads the candidates' vectors back from disk, took ~9 ms for the query alone);
# IVF_HNSW_SQ took 150 s to build and ~19 ms a request for recall 0.99.
PRESETS = {
    "ivf_pq": AnnConfig("ivf_pq"),
    "ivf_hnsw_sq": AnnConfig("ivf_hnsw_sq", rows_per_partition=32768, nprobes=8, candidates=3),
}
DEFAULT = PRESETS["ivf_pq"]


def vector_index(table: lancedb.table.Table) -> str | None:
    """The name of the table's vector index, if it has one."""
    for index in table.list_indices():
        if VECTOR_COLUMN in index.columns:
            return index.name
    return None


def needs_index(table: lancedb.table.Table) -> bool:
    """At or above ANN_MIN_ROWS and without a vector index: `vitrine sync` builds it on its engine."""
    return table.count_rows() >= ANN_MIN_ROWS and vector_index(table) is None


def build_index(table: lancedb.table.Table, config: AnnConfig | None = None) -> float:
    """Build (or rebuild) the vector index; returns the seconds it took."""
    started = time.perf_counter()
    config = config or DEFAULT
    dim = table.schema.field(VECTOR_COLUMN).type.list_size
    table.create_index(VECTOR_COLUMN, config=config.index_config(table.count_rows(), dim), replace=True)
    return time.perf_counter() - started


async def query(table: lancedb.table.AsyncTable, vector: np.ndarray, limit: int,
                config: AnnConfig | None = None) -> np.ndarray:
    """Row ids of the limit x candidates nearest rows by the index's compressed distance, for an exact re-rank.

    Row ids only: reading any column back for hundreds of candidates costs more than the search itself.
    Async, so a request makes one trip to LanceDB's event loop (the sync API makes about nine)."""
    config = config or DEFAULT
    search = (table.vector_search(np.asarray(vector, np.float32)).column(VECTOR_COLUMN).distance_type("dot")
              .limit(limit * config.candidates).select(["_distance"]).with_row_id().nprobes(config.nprobes))
    if config.kind == "ivf_hnsw_sq":
        search = search.ef(max(config.ef, limit * config.candidates))
    result = await search.to_arrow()
    return result["_rowid"].to_numpy().astype(np.int64)


async def row_ids(table: lancedb.table.AsyncTable) -> tuple[np.ndarray, list[str]]:
    """(row id, sku) of every row: maps query() answers onto a matrix loaded by SKU."""
    result = await table.query().select(["sku"]).with_row_id().to_arrow()
    return result["_rowid"].to_numpy().astype(np.int64), result["sku"].to_pylist()


class IndexBuilds:
    """At most one background build per table in this process; `done` callbacks learn the new version."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._seconds: dict[tuple[str, str], float] = {}
        self._failed: dict[tuple[str, str], float] = {}  # monotonic time of the last failure
        self._lock = threading.Lock()

    def seconds(self, uri: str, name: str) -> float:
        """How long this process's last finished build of the table took (0.0 if none finished)."""
        with self._lock:
            return self._seconds.get((uri, name), 0.0)

    def running(self, uri: str, name: str) -> bool:
        with self._lock:
            thread = self._running.get((uri, name))
            return thread is not None and thread.is_alive()

    def start(self, uri: str, name: str, config: AnnConfig | None = None,
              done: Callable[[int, int], None] | None = None) -> bool:
        """Start building unless a build of this table is already under way; True when one started."""
        with self._lock:
            if (thread := self._running.get((uri, name))) is not None and thread.is_alive():
                return False
            if time.monotonic() - self._failed.get((uri, name), -RETRY_FAILED_BUILD_S) < RETRY_FAILED_BUILD_S:
                return False
            thread = threading.Thread(target=self._build, args=(uri, name, config, done),
                                      name=f"ann-index-{name}", daemon=True)
            self._running[(uri, name)] = thread
        thread.start()
        return True

    def wait(self, uri: str, name: str, timeout: float | None = None) -> None:
        with self._lock:
            thread = self._running.get((uri, name))
        if thread is not None:
            thread.join(timeout)

    def _build(self, uri: str, name: str, config: AnnConfig | None, done: Callable[[int, int], None] | None) -> None:
        config = config or DEFAULT
        try:
            table = lancedb.connect(uri).open_table(name)  # own connection: never share a handle across threads
            before = table.version
            seconds = build_index(table, config)
            with self._lock:
                self._seconds[(uri, name)] = seconds
            log.info("built %s index on %s (%d rows) in %.1f s", config.kind, name, table.count_rows(), seconds)
            if done is not None:
                done(before, table.version)
        except Exception:
            log.exception("building the vector index on %s failed; serving exact top-k", name)
            with self._lock:
                self._failed[(uri, name)] = time.monotonic()


BUILDS = IndexBuilds()
