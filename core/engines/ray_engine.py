"""The ray engine: the local jobs as Ray Data pipelines, their vectors written and indexed with lance-ray.

Locally `ray.init()` starts a single-node cluster; with RAY_ADDRESS set (or under `ray job submit`) the same command
runs on a cluster, the workspace then on object storage (VITRINE_DB_URI) with VITRINE_DB_STORAGE_OPTIONS passed to
every Lance read and write. Ray's own Dataset.write_lance is not used: it breaks with pylance >= 6
(ray-project/ray#65129). Actor pools hold one CPU fewer than the cluster has: a pool on every CPU starves the read and
write tasks (ray-project/ray#44687). Models load once per actor (callable classes).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lance
import lance_ray
import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray
from ray.data import ActorPoolStrategy, Dataset

from core.catalog.ann import VECTOR_COLUMN, AnnConfig
from core.catalog.store import Store, vector_rows, vector_schema, with_commit_retry
from core.config import settings
from core.describe.base import Describer
from core.describe.prompts import PromptVersion
from core.engines.base import Encode, Model, VectorRows
from core.engines.local import BATCH_SIZE, describe_here
from core.errors import ConfigError
from core.models import Description, ImageRef
from core.nets.backend import set_thread_budget

EMBED_BATCH = 256  # rows per actor call: MiniLM sorts each batch by length, so larger batches pad less
DESCRIBE_BATCH = 2 * BATCH_SIZE  # two describe_many batches per actor call, the second's CNN overlapping the first
STAGE = "__stage"  # suffix of the table a merge's new vectors land in before they replace the table's rows


def pool_size() -> int:
    """Actors per pool: the cluster's CPUs less one (at least one), so reads and writes keep a core."""
    return max(1, _cpus() - 1)


def actor_threads(actors: int) -> int:
    """Threads each actor's ONNX Runtime sessions get: the cluster's CPUs shared out among the actors (2 CPUs,
    1 actor: 2; 16 CPUs, 15 actors: 1), where sizing by CPU affinity would give every actor all of its node's."""
    return max(1, _cpus() // actors)


def _cpus() -> int:
    return int(ray.cluster_resources().get("CPU", 1))


class _Embed:
    """One encoder per actor, within its thread budget; a batch of distinct inputs, each with the (sku,
    image_sha256, text_sha) rows that share it as lists, becomes one vector row per SKU."""

    def __init__(self, load: Callable[[], Encode], dim: int, threads: int) -> None:
        set_thread_budget(threads)
        self.encode = load()
        self.dim = dim

    def __call__(self, batch: pa.Table) -> pa.Table:
        vectors = self.encode(batch["input"].to_pylist())
        shared_by = pc.list_value_length(batch["sku"]).to_numpy()
        skus, shas, text_shas = (pc.list_flatten(batch[c]).to_pylist() for c in ("sku", "image_sha256", "text_sha"))
        return vector_rows(self.dim, skus, shas, text_shas, np.repeat(vectors, shared_by, axis=0))


class _Describe:
    """One describer per actor, within its thread budget, rebuilt from the run's connection; each batch described
    as the local engine does."""

    def __init__(self, rebuild: Callable[[], Describer], prompt: PromptVersion, concurrency: int,
                 threads: int) -> None:
        set_thread_budget(threads)
        self.describer = rebuild()
        self.prompt = prompt
        self.concurrency = concurrency

    def __call__(self, batch: pa.Table) -> dict[str, list]:
        refs = [ImageRef(sha, Path(path), json.loads(context)) for sha, path, context in
                zip(batch["sha"].to_pylist(), batch["path"].to_pylist(), batch["context"].to_pylist(), strict=True)]
        position = {id(ref): i for i, ref in zip(batch["i"].to_pylist(), refs, strict=True)}
        done = describe_here(self.describer, refs, self.prompt, self.concurrency, threading.Event())
        rows = [(position[id(ref)], desc.model_dump_json()) for ref, desc in done]
        return {"i": [i for i, _ in rows], "description": [d for _, d in rows]}


class RayEngine:
    name = "ray"

    def __init__(self) -> None:
        config = settings()
        self.address = config.ray_address
        self.storage_options = config.storage_options

    def _pool(self) -> ActorPoolStrategy:
        """Join (or start) the cluster once per process; a fixed pool of pool_size() actors."""
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False
            context.print_on_execution_start = False
        return ActorPoolStrategy(size=pool_size())

    def write_vectors(self, store: Store, rows: VectorRows, model: Model) -> None:
        """New rows are appended straight to the table by the workers; changed ones go through a staging table and
        one merge on sku, as the local engine's upsert does."""
        pool = self._pool()  # first: any Ray Data call would start a default cluster
        vectors = ray.data.from_arrow(_by_input(rows)).map_batches(
            _Embed, fn_constructor_args=(model.load, rows.dim, actor_threads(int(pool.max_size or 1))),
            batch_size=EMBED_BATCH, batch_format="pyarrow", compute=pool, num_cpus=1)
        schema = vector_schema(rows.dim)
        table = store.db.create_table(rows.table, schema=schema, exist_ok=True)
        if rows.fresh:
            self._write(vectors, _dataset_uri(table), schema, "append")
            return
        stage_uri = _dataset_uri(table).removesuffix(".lance") + STAGE + ".lance"
        self._write(vectors, stage_uri, schema, "overwrite")
        try:
            staged = lance.dataset(stage_uri, storage_options=self.storage_options)
            with_commit_retry(lambda: table.merge_insert("sku").when_matched_update_all()
                              .when_not_matched_insert_all().execute(staged))
        finally:
            store.db.drop_table(rows.table + STAGE)

    def _write(self, vectors: Dataset, uri: str, schema: pa.Schema, mode: str) -> None:
        lance_ray.write_lance(vectors, uri, schema=schema, mode=mode,  # type: ignore[arg-type]  # a Literal there
                              storage_options=self.storage_options)

    def describe(self, describer: Describer, rebuild: Callable[[], Describer], todo: list[ImageRef],
                 prompt: PromptVersion, concurrency: int, stop: threading.Event) -> Iterator[tuple[ImageRef,
                                                                                                 Description]]:
        """Requests in flight stay within the connection's concurrency: it is shared out among the actors."""
        if not todo:
            return iter(())
        pool = self._pool()
        rows = [{"i": i, "sha": r.sha256, "path": str(r.path), "context": json.dumps(r.context)}
                for i, r in enumerate(todo)]
        actors = int(pool.max_size or 1)
        described = ray.data.from_items(rows).map_batches(
            _Describe, fn_constructor_args=(rebuild, prompt, max(1, concurrency // actors), actor_threads(actors)),
            batch_size=DESCRIBE_BATCH,
            batch_format="pyarrow", compute=pool, num_cpus=1)
        return _collected(described, todo, stop)

    def build_index(self, store: Store, table: str, config: AnnConfig) -> float:
        """The IVF_PQ index trained and built across the pool's workers (lance_ray.create_index)."""
        if config.kind != "ivf_pq":
            raise ConfigError(f"the ray engine builds ivf_pq indexes, not {config.kind}")
        handle = store.vector_table(table)
        if handle is None:
            raise ConfigError(f"no vector table {table!r} to index")
        workers = int(self._pool().max_size or 1)
        started = time.perf_counter()
        lance_ray.create_index(_dataset_uri(handle), column=VECTOR_COLUMN, index_type="IVF_PQ", metric="dot",
                               num_workers=workers, storage_options=self.storage_options,
                               num_partitions=max(1, handle.count_rows() // config.rows_per_partition),
                               num_sub_vectors=config.sub_vectors(handle.schema.field(VECTOR_COLUMN).type.list_size),
                               num_bits=config.num_bits,
                               sample_rate=config.sample_rate, max_iters=config.max_iterations)
        return time.perf_counter() - started


def _by_input(rows: VectorRows) -> pa.Table:
    """One row per distinct input, with the SKUs (and their shas) that share it as lists: an image shared by colour
    variants is read, shipped and encoded once."""
    inputs, positions = rows.distinct()
    order = np.argsort(positions, kind="stable")
    offsets = pa.array(np.concatenate([[0], np.cumsum(np.bincount(positions, minlength=len(inputs)))]), pa.int32())

    def grouped(values: list[str]) -> pa.ListArray:
        return pa.ListArray.from_arrays(offsets, pa.array(values, pa.string()).take(order))

    return pa.table({"input": inputs, "sku": grouped(rows.skus), "image_sha256": grouped(rows.shas),
                     "text_sha": grouped(rows.text_shas)})


def _dataset_uri(table: lancedb.table.Table) -> str:
    """Where the Lance dataset behind a LanceDB table lives: lance-ray reads, writes and indexes it by URI."""
    uri = getattr(table, "uri", None)
    if not isinstance(uri, str):
        raise ConfigError("the ray engine works on a LanceDB database by URI (a folder or object storage)")
    return uri


def _collected(described: Dataset, todo: list[ImageRef], stop: threading.Event) -> Iterator[tuple[ImageRef,
                                                                                                  Description]]:
    """(ref, description) batch by batch as the actors finish them; after `stop`, the batch at hand is the last."""
    for batch in described.iter_batches(batch_format="pyarrow", batch_size=None):
        assert isinstance(batch, pa.Table)
        for i, text in zip(batch["i"].to_pylist(), batch["description"].to_pylist(), strict=True):
            yield todo[i], Description.model_validate_json(text)
        if stop.is_set():
            return
