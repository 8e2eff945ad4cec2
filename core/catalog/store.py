"""LanceDB tables: items, descriptions, representations (one vector table each) and settings."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import lancedb
import numpy as np
import pandas as pd
import pyarrow as pa

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
        self.db = lancedb.connect(uri)

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
            return self.db.create_table(name, schema=schema, exist_ok=True)
        if missing := [f for f in schema if f.name not in table.schema.names]:
            _add_string_columns(table, missing)
        return table

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

    def delete_items(self, skus: Iterable[str]) -> int:
        """Delete items and their vectors, remembering each table's prior version for undo_last_delete."""
        skus = list(skus)
        table = self.open_table("items")
        if not skus or table is None:
            return 0
        cond = "sku IN (" + ",".join(sql_str(s) for s in skus) + ")"
        tables = [table] + [vt for rep in self.representations().itertuples()
                            if (vt := self.open_table(rep.table)) is not None]
        self.set_setting("last_delete", json.dumps({"skus": skus, "versions": {t.name: t.version for t in tables}}))
        before = table.count_rows()
        for t in tables:
            with_commit_retry(partial(t.delete, cond))
        return before - table.count_rows()

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
        schema = vector_schema(dim)
        arr = pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel()), dim)
        data = pa.Table.from_arrays([pa.array(skus), pa.array(shas), pa.array(text_shas), arr], schema=schema)
        t = self._table(table, schema)
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


def sql_str(value: str) -> str:
    """Quote a string literal for a LanceDB filter (SQL-style doubled quotes)."""
    return "'" + str(value).replace("'", "''") + "'"


def _columns(table: lancedb.table.Table, columns: list[str]) -> pa.Table:
    """Read only the named columns of every row (a projection scan, no vector search)."""
    return table.search().select(columns).limit(None).to_arrow()
