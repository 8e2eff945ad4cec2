"""LanceDB tables: items, descriptions, representations (one vector table each) and settings."""

from __future__ import annotations

import fcntl
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import lancedb
import numpy as np
import pandas as pd
import pyarrow as pa

from core.config import settings
from core.errors import VitrineError
from core.models import Attributes, Description

T = TypeVar("T")

ITEM_SCHEMA = pa.schema([
    ("sku", pa.string()), ("title", pa.string()), ("category", pa.string()),
    ("image_sha256", pa.string()), ("image_ext", pa.string()),
    ("extra", pa.string()),  # JSON object of further CSV columns (brand, price, ...)
    ("added_at", pa.string()),
])

DESCRIPTION_SCHEMA = pa.schema([
    ("key", pa.string()), ("image_sha256", pa.string()),
    ("prompt_name", pa.string()), ("prompt_version", pa.int32()), ("prompt_hash", pa.string()),
    ("provider", pa.string()), ("model", pa.string()),
    ("text", pa.string()), ("attributes", pa.string()),
    ("inputs_hash", pa.string()),  # added later: older workspaces get the column (as '') on open
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()),
    ("latency_ms", pa.float64()), ("cost_usd", pa.float64()),
    ("error", pa.string()), ("created_at", pa.string()),
])

REPRESENTATION_SCHEMA = pa.schema([
    ("name", pa.string()), ("table", pa.string()), ("kind", pa.string()), ("dim", pa.int32()),
    ("prompt_ref", pa.string()), ("prompt_hash", pa.string()), ("provider", pa.string()),
    ("model", pa.string()), ("encoder", pa.string()), ("updated_at", pa.string()),
])

SETTINGS_SCHEMA = pa.schema([("key", pa.string()), ("value", pa.string())])

# optimize() prunes no version younger than this, so undo (core/history.py) keeps the whole history by default.
KEEP_VERSIONS = timedelta(days=36500)
SMALL_FRAGMENTS_TO_COMPACT = 32  # optimize_if_fragmented(): compact once a table has this many small fragments


def vector_schema(dim: int) -> pa.Schema:
    return pa.schema([
        ("sku", pa.string()), ("image_sha256", pa.string()),
        ("text_sha", pa.string()),  # what was embedded; lets re-embedding skip unchanged text
        ("vector", pa.list_(pa.float32(), dim)),
    ])


def vector_rows(dim: int, skus: list[str], shas: list[str], text_shas: list[str], vectors: np.ndarray) -> pa.Table:
    """Rows of a representation's vector table, as written (and as the undo journal records them)."""
    arr = pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel()), dim)
    return pa.Table.from_arrays([pa.array(skus), pa.array(shas), pa.array(text_shas), arr], schema=vector_schema(dim))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def table_slug(name: str) -> str:
    return "vec_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def with_commit_retry(fn: Callable[[], T], attempts: int = 8) -> T:
    """Retry LanceDB optimistic-commit conflicts from concurrent writers with short backoff."""
    for attempt in range(attempts):
        try:
            return fn()
        except (OSError, RuntimeError, ValueError) as exc:
            if "conflict" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def _add_string_columns(table: lancedb.table.Table, fields: list[pa.Field]) -> None:
    """Schema migration for additive string columns: existing rows read '' (the value before the column existed)."""
    if any(not pa.types.is_string(f.type) for f in fields):
        raise VitrineError(f"table {table.name!r} lacks columns {[f.name for f in fields]}; this workspace was "
                           "written by a newer Vitrine")
    with_commit_retry(lambda: table.add_columns({f.name: "CAST('' AS STRING)" for f in fields}))


class Store:
    """Typed access to the workspace's LanceDB database; all writes are batched merge-inserts."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.db = lancedb.connect(uri, storage_options=settings().storage_options)

    # --- generic helpers -------------------------------------------------------------------
    def open_table(self, name: str) -> lancedb.table.Table | None:
        """Open a table if it exists (local connections have no cheap existence check)."""
        try:
            return self.db.open_table(name)
        except ValueError:
            return None

    def _table(self, name: str, schema: pa.Schema) -> lancedb.table.Table:
        table = self.open_table(name)
        if table is None:
            with self._creating():
                return self.open_table(name) or self.db.create_table(name, schema=schema, exist_ok=True)
        if missing := [f for f in schema if f.name not in table.schema.names]:
            _add_string_columns(table, missing)
        return table

    @contextmanager
    def _creating(self) -> Iterator[None]:
        """Two writers creating one table at once both commit it, the second as an overwrite that can drop rows the
        first just wrote: creation is serialised by a lock file in a local database folder."""
        folder = Path(self.uri)
        if "://" in self.uri:  # object storage: no shared lock to take
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".create.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def upsert_rows(self, name: str, schema: pa.Schema, rows: list[dict], key: str) -> None:
        """Batched merge-insert on `key`; other core modules use this for their own tables."""
        if not rows:
            return
        data = pa.Table.from_pylist(rows, schema=schema)
        table = self._table(name, schema)
        with_commit_retry(lambda: table.merge_insert(key).when_matched_update_all()
                          .when_not_matched_insert_all().execute(data))

    def frame(self, name: str, schema: pa.Schema, where: str | None = None) -> pd.DataFrame:
        """A whole table (or a filtered part) as a DataFrame; an absent table reads as empty."""
        table = self.open_table(name)
        if table is None:
            return schema.empty_table().to_pandas()
        df = table.search().where(where).limit(None).to_pandas() if where else table.to_pandas()
        for f in schema:  # a workspace written before a column was added reads it as its default
            if f.name not in df.columns and pa.types.is_string(f.type):
                df[f.name] = ""
        return df

    def table_names(self) -> list[str]:
        return list(self.db.list_tables().tables)

    def rows(self, name: str, where: str | None = None, columns: list[str] | None = None) -> pa.Table | None:
        """Rows as Arrow, whole (vectors included) unless `columns` are named; None when the table does not exist."""
        table = self.open_table(name)
        if table is None:
            return None
        query = table.search().where(where) if where else table.search()
        return (query.select(columns) if columns else query).limit(None).to_arrow()

    def put_rows(self, name: str, rows: pa.Table) -> None:
        """Write rows back as they were (undo): merge on the table's key, creating the table if it is gone."""
        if not rows.num_rows:
            return
        table = self._table(name, rows.schema)
        rows = conform(rows, table.schema)
        with_commit_retry(lambda: table.merge_insert(key_column(table.schema)).when_matched_update_all()
                          .when_not_matched_insert_all().execute(rows))

    def delete_rows(self, name: str, where: str) -> None:
        if (table := self.open_table(name)) is not None:
            with_commit_retry(partial(table.delete, where))

    def compare_and_set(self, name: str, schema: pa.Schema, row: dict, column: str, expected: str) -> bool:
        """Write `row` only if the stored row with its key still has `expected` in `column` (or does not exist):
        one atomic merge, so of two writers that read the same value exactly one wins."""
        table = self._table(name, schema)
        data = pa.Table.from_pylist([row], schema=schema)
        key = key_column(schema)
        result = with_commit_retry(lambda: table.merge_insert(key)
                                   .when_matched_update_all(where=f"target.{column} = {sql_str(expected)}")
                                   .when_not_matched_insert_all().execute(data))
        if not result.num_inserted_rows:
            return bool(result.num_updated_rows)
        # Appends never conflict, so two writers can insert the same new key at once: the first committed (lowest
        # row id) wins, and a later one takes its row back. Each sees its own row and every earlier one.
        mine = f"{key} = {sql_str(row[key])}"
        same = table.search().where(mine).with_row_id(True).select([column]).limit(None).to_arrow()
        if same.num_rows > 1 and same.sort_by("_rowid")[column][0].as_py() != row[column]:
            self.delete_rows(name, f"{mine} AND {column} = {sql_str(row[column])}")
            return False
        return True

    # --- items -----------------------------------------------------------------------------
    def upsert_items(self, rows: list[dict]) -> None:
        self.upsert_rows("items", ITEM_SCHEMA, rows, "sku")

    def items(self) -> pd.DataFrame:
        """Items with their extra metadata expanded into columns."""
        df = self.frame("items", ITEM_SCHEMA).sort_values("sku", kind="stable").reset_index(drop=True)
        if df.empty:
            return df
        extras = pd.DataFrame([json.loads(e or "{}") for e in df["extra"]], index=df.index)
        extras = extras.drop(columns=[c for c in extras.columns if c in df.columns], errors="ignore")
        return pd.concat([df, extras], axis=1)

    def item_count(self) -> int:
        table = self.open_table("items")
        return table.count_rows() if table is not None else 0

    def item_tables(self) -> list[str]:
        """The tables holding an item's rows by SKU: `items` and every representation's vector table."""
        return ["items"] + [t for t in self.representations()["table"] if self.open_table(t) is not None]

    def delete_items(self, skus: Iterable[str]) -> int:
        """Delete items and their vectors, vectors first: a crash in between leaves items the doctor re-embeds,
        never vectors of nothing. Undoable deletes go through core.catalog.history.delete_items."""
        skus = list(skus)
        if not skus:
            return 0
        cond = "sku IN (" + ",".join(sql_str(s) for s in skus) + ")"
        before = self.item_count()
        for name in self.item_tables()[::-1]:
            self.delete_rows(name, cond)
        return before - self.item_count()

    # --- descriptions ----------------------------------------------------------------------
    def upsert_descriptions(self, descriptions: list[Description]) -> None:
        rows = [{
            "key": d.key, "image_sha256": d.image_sha256, "prompt_name": d.prompt_name,
            "prompt_version": d.prompt_version, "prompt_hash": d.prompt_hash, "provider": d.provider,
            "model": d.model, "text": d.text, "attributes": d.attributes.model_dump_json(),
            "inputs_hash": d.inputs_hash,
            "input_tokens": d.input_tokens, "output_tokens": d.output_tokens, "latency_ms": d.latency_ms,
            "cost_usd": d.cost_usd, "error": d.error, "created_at": now_iso(),
        } for d in descriptions]
        self.upsert_rows("descriptions", DESCRIPTION_SCHEMA, rows, "key")

    def descriptions(self, *, prompt_hash: str | None = None, provider: str | None = None,
                     model: str | None = None) -> pd.DataFrame:
        clauses = [f"{col} = {sql_str(val)}" for col, val in
                   (("prompt_hash", prompt_hash), ("provider", provider), ("model", model)) if val]
        return self.frame("descriptions", DESCRIPTION_SCHEMA, " AND ".join(clauses) or None)

    def description_keys(self) -> dict[str, str]:
        """key -> error ('' when ok): the cache lookup that makes re-runs free."""
        table = self.open_table("descriptions")
        if table is None:
            return {}
        tbl = _columns(table, ["key", "error"])
        return dict(zip(tbl["key"].to_pylist(), tbl["error"].to_pylist(), strict=True))

    @staticmethod
    def row_to_description(row: dict) -> Description:
        data = {k: row[k] for k in Description.model_fields if k in row and k != "attributes"}
        return Description(**data, attributes=Attributes.model_validate_json(row["attributes"] or "{}"))

    # --- representations -------------------------------------------------------------------
    def register_representation(self, name: str, kind: str, dim: int, *, prompt_ref: str = "",
                                prompt_hash: str = "", provider: str = "", model: str = "",
                                encoder: str = "") -> str:
        table = table_slug(name)
        self.upsert_rows("representations", REPRESENTATION_SCHEMA, [{
            "name": name, "table": table, "kind": kind, "dim": dim, "prompt_ref": prompt_ref,
            "prompt_hash": prompt_hash, "provider": provider, "model": model, "encoder": encoder,
            "updated_at": now_iso(),
        }], "name")
        return table

    def representations(self) -> pd.DataFrame:
        return self.frame("representations", REPRESENTATION_SCHEMA).sort_values("name").reset_index(drop=True)

    def representation(self, name: str) -> dict:
        reps = self.representations()
        match = reps[reps["name"] == name]
        if match.empty:
            raise VitrineError(f"no representation named {name!r}; available: "
                               f"{', '.join(reps['name']) or 'none (run describe first)'}")
        return match.iloc[0].to_dict()

    def upsert_vectors(self, table: str, dim: int, skus: list[str], shas: list[str], text_shas: list[str],
                       vectors: np.ndarray) -> None:
        data = vector_rows(dim, skus, shas, text_shas, vectors)
        t = self._table(table, data.schema)
        with_commit_retry(lambda: t.merge_insert("sku").when_matched_update_all()
                          .when_not_matched_insert_all().execute(data))

    def vector_table(self, table: str) -> lancedb.table.Table | None:
        return self.open_table(table)

    def vectors(self, table: str) -> tuple[list[str], np.ndarray, int]:
        """(skus, matrix, table version) for a representation table; fast columnar read."""
        t = self.vector_table(table)
        if t is None:
            return [], np.zeros((0, 0), np.float32), 0
        arrow = _columns(t, ["sku", "vector"])
        vec = arrow["vector"].combine_chunks()
        dim = vec.type.list_size
        matrix = vec.values.to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)
        return arrow["sku"].to_pylist(), matrix, t.version

    def vector_text_shas(self, table: str) -> dict[str, str]:
        t = self.vector_table(table)
        if t is None:
            return {}
        arrow = _columns(t, ["sku", "text_sha"])
        return dict(zip(arrow["sku"].to_pylist(), arrow["text_sha"].to_pylist(), strict=True))

    # --- housekeeping ----------------------------------------------------------------------
    def fragment_counts(self, tables: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """table -> (fragments, small fragments): every batched write adds a fragment until compaction."""
        counts = {}
        for name in tables if tables is not None else self.table_names():
            if (t := self.open_table(name)) is not None:
                frags = t.stats()["fragment_stats"]  # type: ignore[index]  # a TypedDict at runtime in lancedb 0.40
                counts[name] = (frags["num_fragments"], frags["num_small_fragments"])
        return counts

    def optimize(self, tables: Iterable[str] | None = None, *,
                 keep_versions_for: timedelta = KEEP_VERSIONS) -> dict[str, tuple[int, int]]:
        """Compact fragments, fold new rows into vector indexes; table -> (fragments before, after); undo survives."""
        names = list(tables) if tables is not None else self.table_names()
        before = self.fragment_counts(names)
        for name in before:
            if (table := self.open_table(name)) is not None:
                with_commit_retry(partial(table.optimize, cleanup_older_than=keep_versions_for))
        after = self.fragment_counts(before)
        return {name: (before[name][0], after[name][0]) for name in before}

    def optimize_if_fragmented(self, min_small_fragments: int | None = None) -> dict[str, tuple[int, int]]:
        """optimize() only the tables with many small fragments: cheap enough to call after every run."""
        threshold = SMALL_FRAGMENTS_TO_COMPACT if min_small_fragments is None else min_small_fragments
        due = [name for name, (_, small) in self.fragment_counts().items() if small >= threshold]
        return self.optimize(due) if due else {}

    # --- settings --------------------------------------------------------------------------
    def get_setting(self, key: str, default: str = "") -> str:
        df = self.frame("settings", SETTINGS_SCHEMA, f"key = {sql_str(key)}")
        return str(df.iloc[0]["value"]) if not df.empty else default

    def set_setting(self, key: str, value: str) -> None:
        self.upsert_rows("settings", SETTINGS_SCHEMA, [{"key": key, "value": value}], "key")


def key_column(schema: pa.Schema) -> str:
    """Every Vitrine table is keyed by its first column (sku, key, name, vote_id, ...)."""
    return schema.names[0]


def conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """Rows journaled before a string column was added get it as '' (what migrated rows read)."""
    for f in schema:
        if f.name not in rows.column_names:
            rows = rows.append_column(f, pa.array([""] * rows.num_rows, f.type))
    return rows.select(schema.names).cast(schema)


def sql_str(value: str) -> str:
    """Quote a string literal for a LanceDB filter (SQL-style doubled quotes)."""
    return "'" + str(value).replace("'", "''") + "'"


def _columns(table: lancedb.table.Table, columns: list[str]) -> pa.Table:
    """Read only the named columns of every row (a projection scan, no vector search)."""
    return table.search().select(columns).limit(None).to_arrow()
