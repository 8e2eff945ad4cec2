"""The per-item columns a map shows next to its coordinates, and the one compact file per map that holds both.

Re-opening a 100k-item map used to re-read the vectors (to find its fit by content) and re-parse every item's
attributes; the view file instead records the table versions it was derived from (core.represent.recommend
.data_versions), so a new process reads one Arrow file while those versions stand. Multi-valued columns (facets,
prompt versions) are stored as codes into their distinct value tuples, which are few.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.catalog.store import ITEM_SCHEMA
from core.lab import Lab
from core.models import FACETS
from core.represent.palette import NONE
from core.represent.recommend import item_attributes

PROMPT_VERSION = "prompt_version"
MULTI = (*FACETS, PROMPT_VERSION)  # columns holding a tuple of values per item
VIEW_FORMAT = 1  # bump when the view file's layout changes, so older files are recomputed rather than misread


@dataclass(frozen=True)
class View:
    """What a view file says about itself: the data versions it was derived from, the fit it shows and its
    effective parameters (n_neighbors clipped to the catalogue, landmarks when there were enough items)."""

    vectors: tuple
    items: tuple
    key: str
    params: dict


def item_columns(lab: Lab, skus: list[str], xy: np.ndarray) -> pd.DataFrame:
    """Coordinates joined with the current item metadata (titles can change without the vectors changing)."""
    xy = xy.astype(np.float64)
    points = pd.DataFrame({"sku": skus, "x": xy[:, 0], "y": xy[:, 1]}).merge(
        lab.store.frame("items", ITEM_SCHEMA)[["sku", "title", "category", "image_sha256"]], on="sku",
        how="left")  # the stored columns only: Store.items() would also parse every item's extra JSON
    points["title"] = points["title"].fillna("")
    points["category"] = points["category"].fillna(NONE)
    attrs = item_attributes(lab)
    rows = [attrs.get(sku) or {} for sku in skus]
    seen: dict[object, tuple[str, ...]] = {}  # a facet's raw value -> its tuple: most items repeat a few values
    for facet in FACETS:
        points[facet] = [_values(row[facet], seen) if facet in row else () for row in rows]
    coverage = _prompt_coverage(lab)
    points[PROMPT_VERSION] = [coverage.get(sha, ()) for sha in points["image_sha256"]]
    return points


def write(path: Path, points: pd.DataFrame, view: View) -> None:
    """The points and what they were derived from, via tmp + rename so a crash never leaves half a file."""
    columns: dict[str, pa.Array] = {"sku": pa.array(points["sku"].astype(str)),
                                    "x": pa.array(points["x"].to_numpy(np.float32)),
                                    "y": pa.array(points["y"].to_numpy(np.float32))}
    for name in ("title", "category", "image_sha256"):  # an item deleted since its vector was read has no image
        columns[name] = pa.array(points[name], pa.string(), from_pandas=True)
    distinct: dict[str, list[tuple[str, ...]]] = {}
    for name in MULTI:
        codes: dict[tuple[str, ...], int] = {}
        columns[name] = pa.array([codes.setdefault(tuple(v), len(codes)) for v in points[name]], pa.int32())
        distinct[name] = list(codes)
    meta = {"format": VIEW_FORMAT, "vectors": view.vectors, "items": view.items, "key": view.key,
            "params": view.params, "distinct": distinct}
    table = pa.table(columns).replace_schema_metadata({"vitrine": json.dumps(meta)})
    tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp")  # two processes may write one view at once
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)


def read_view(path: Path) -> View | None:
    """A view file's header (the footer of an Arrow file: no rows are read), or None without a readable one."""
    meta = _meta(path)
    if meta is None:
        return None
    return View(tuple(meta["vectors"]), tuple(meta["items"]), meta["key"], meta["params"])


def read_points(path: Path) -> pd.DataFrame:
    """The points a view file holds, shaped as item_columns returns them."""
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    distinct = json.loads(table.schema.metadata[b"vitrine"])["distinct"]
    points = table.select(["sku", "x", "y", "title", "category", "image_sha256"]).to_pandas()
    points[["x", "y"]] = points[["x", "y"]].astype(np.float64)
    for name in MULTI:
        values = np.empty(len(distinct[name]), object)
        for i, value in enumerate(distinct[name]):
            values[i] = tuple(value)
        points[name] = values[table[name].to_numpy()]
    return points


def _meta(path: Path) -> dict | None:
    try:
        with pa.memory_map(str(path)) as source:
            raw = pa.ipc.open_file(source).schema.metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    meta = json.loads(raw.get(b"vitrine", b"{}"))
    return meta if meta.get("format") == VIEW_FORMAT else None


def _values(value: object, seen: dict[object, tuple[str, ...]]) -> tuple[str, ...]:
    """A facet's values as a tuple of non-empty strings (a describer may write one string or a list)."""
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    key = tuple(map(str, items))
    if key not in seen:
        seen[key] = tuple(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))
    return seen[key]


def _prompt_coverage(lab: Lab) -> dict[str, tuple[str, ...]]:
    """Image sha -> the prompt versions with a successful description of it, e.g. ('appearance@v1', 'preference@v1')."""
    descs = lab.store.descriptions()
    descs = descs[descs["error"] == ""]
    refs = descs["prompt_name"] + "@v" + descs["prompt_version"].astype(str)
    return {sha: tuple(sorted(set(group))) for sha, group in refs.groupby(descs["image_sha256"])}
