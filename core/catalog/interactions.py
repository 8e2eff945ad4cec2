"""Interaction logs from CSV, MMRec `.inter` and Amazon-reviews JSON lines, as one validated frame.

Every importer returns `Interactions`: a frame with `shopper_id`, `sku` (strings), `timestamp` (float
seconds; files without times use row order), `rating` (NaN when absent) and `label` ('' or the file's own
train/valid/test assignment, which only MMRec files carry), plus any item metadata the source ships.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import EvaluationError
from core.workspace import Workspace

CSV_COLUMNS = ("shopper_id", "sku", "timestamp")
MMREC_LABELS = {0: "train", 1: "valid", 2: "test"}
ITEM_COLUMNS = ["sku", "title", "category"]


@dataclass
class Interactions:
    frame: pd.DataFrame
    source: str
    items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ITEM_COLUMNS))

    @property
    def has_labels(self) -> bool:
        """True when the file carries its own split (MMRec x_label), enabling split='given'."""
        return bool(len(self.frame)) and bool((self.frame["label"] != "").all())

    def summary(self) -> str:
        f = self.frame
        return f"{len(f):,} interactions, {f['shopper_id'].nunique():,} shoppers, {f['sku'].nunique():,} SKUs"


def from_frame(df: pd.DataFrame, source: str, items: pd.DataFrame | None = None) -> Interactions:
    """Validate and normalise a frame with shopper_id, sku, timestamp (numeric or ISO) and optional rating/label."""
    if df.empty:
        raise EvaluationError(f"no interactions in {source}")
    out = pd.DataFrame({
        "shopper_id": df["shopper_id"].astype(str).str.strip(),
        "sku": df["sku"].astype(str).str.strip(),
        "timestamp": _seconds(df["timestamp"], source),
        "rating": pd.to_numeric(df["rating"], errors="coerce") if "rating" in df else np.nan,
        "label": df["label"].astype(str) if "label" in df else "",
    }).reset_index(drop=True)
    blank = out.index[(out["shopper_id"].isin(["", "nan", "None"])) | (out["sku"].isin(["", "nan", "None"]))]
    if len(blank):
        raise EvaluationError(f"{source}: {len(blank)} row(s) without a shopper_id or sku "
                              f"(first at data row {blank[0] + 1})")
    return Interactions(out, source, items if items is not None else pd.DataFrame(columns=ITEM_COLUMNS))


def _seconds(col: pd.Series, source: str) -> pd.Series:
    """Epoch numbers pass through; anything else must parse as a date-time (naive times are read as UTC).

    Every ISO date from year 1 to 9999 converts to float epoch seconds (microsecond precision), including those past
    2262 that nanosecond timestamps cannot hold: a real date is kept as given, never refused or wrapped around."""
    numeric = pd.to_numeric(col, errors="coerce")
    if numeric.notna().all():
        return numeric.astype(float)
    parsed = _datetimes(col)
    if (bad := parsed.isna()).any():  # alone, a far date is not forced into the nanoseconds a precise one asks for
        parsed = parsed.where(~bad, _datetimes(col[bad]))
    if (bad := parsed.isna()).any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise EvaluationError(f"{source}: timestamp {col.iloc[row]!r} at data row {row + 1} is neither a number "
                              "nor a date-time (use e.g. 2026-01-31T12:00:00Z or epoch seconds)")
    return parsed.astype("int64") / 1e6


def _datetimes(col: pd.Series) -> pd.Series:
    """UTC date-times in microseconds (NaT where a value does not parse)."""
    return pd.to_datetime(col, utc=True, errors="coerce", format="mixed").dt.as_unit("us")


def _bytes(source: Path | bytes) -> bytes:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvaluationError(f"{name}: not UTF-8 (byte {exc.start})") from exc


def _table(source: Path | bytes, name: str, sep: str, kind: str) -> pd.DataFrame:
    """Every cell as a string; a file with nothing in it (0 bytes, blank lines) holds no interactions."""
    try:
        return pd.read_csv(io.StringIO(_text(_bytes(source), name)), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise EvaluationError(f"no interactions in {name}") from exc
    except pd.errors.ParserError as exc:
        raise EvaluationError(f"{name}: not a readable {kind} ({exc})") from exc


def read_csv(source: Path | bytes, name: str = "interactions CSV") -> Interactions:
    """`shopper_id,sku,timestamp[,rating]`; extra columns are ignored."""
    df = _table(source, name, ",", "CSV")
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in CSV_COLUMNS if c not in df.columns]
    if missing:
        raise EvaluationError(f"{name}: missing column(s) {', '.join(missing)}; need shopper_id,sku,timestamp"
                              f"[,rating]; found {', '.join(df.columns) or 'none'}")
    return from_frame(df, name)


def read_mmrec(source: Path | bytes, name: str = "MMRec .inter file") -> Interactions:
    """Tab-separated userID, itemID[, rating, timestamp], x_label (0 train, 1 valid, 2 test)."""
    df = _table(source, name, "\t", "tab-separated file")
    missing = [c for c in ("userID", "itemID", "x_label") if c not in df.columns]
    if missing:
        raise EvaluationError(f"{name}: missing column(s) {', '.join(missing)}; an MMRec .inter file has "
                              f"userID, itemID, x_label; found {', '.join(df.columns)}")
    labels = pd.to_numeric(df["x_label"], errors="coerce").map(MMREC_LABELS)
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise EvaluationError(f"{name}: x_label {df['x_label'].iloc[row]!r} at data row {row + 1}; "
                              "expected 0 (train), 1 (valid) or 2 (test)")
    frame = pd.DataFrame({"shopper_id": df["userID"], "sku": df["itemID"], "label": labels,
                          "timestamp": df["timestamp"] if "timestamp" in df else np.arange(len(df), dtype=float)})
    if "rating" in df:
        frame["rating"] = df["rating"]
    return from_frame(frame, name)


def _json_lines(data: bytes, name: str) -> list[dict]:
    """JSON lines; the 2014 Amazon dumps are Python literals, so fall back to a safe literal parse."""
    rows = []
    for number, line in enumerate(_text(data, name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            try:
                row = ast.literal_eval(line)
            except (ValueError, SyntaxError) as exc:
                raise EvaluationError(f"{name}: line {number} is not a JSON object") from exc
        if not isinstance(row, dict):
            raise EvaluationError(f"{name}: line {number} is not a JSON object")
        rows.append(row)
    return rows


def _first(row: dict, keys: tuple[str, ...]) -> object:
    return next((row[k] for k in keys if row.get(k) not in (None, "")), None)


def _amazon_time(row: dict) -> float | None:
    """2023 dumps: `timestamp` in milliseconds; 2014/2018: `unixReviewTime` in seconds."""
    if row.get("timestamp") not in (None, ""):
        return float(row["timestamp"]) / 1000.0
    return float(row["unixReviewTime"]) if row.get("unixReviewTime") not in (None, "") else None


def _amazon_category(row: dict) -> str:
    """The most specific level of the category path (`main_category` when there is no path)."""
    path = row.get("categories") or row.get("category") or []
    if path and isinstance(path[0], list):  # 2014: a list of paths
        path = path[0]
    if path:
        return str(path[-1])
    return str(row.get("main_category") or "")


def read_amazon(reviews: Path | bytes, meta: Path | bytes | None = None, name: str = "Amazon reviews") -> Interactions:
    """Reviews (reviewerID|user_id, parent_asin|asin, timestamp|unixReviewTime[, rating|overall]) + metadata."""
    records = []
    for number, row in enumerate(_json_lines(_bytes(reviews), name), start=1):
        user, item, ts = _first(row, ("user_id", "reviewerID")), _first(row, ("parent_asin", "asin")), _amazon_time(row)
        if user is None or item is None or ts is None:
            raise EvaluationError(f"{name}: record {number} lacks a user (reviewerID/user_id), an item "
                                  "(asin/parent_asin) or a time (unixReviewTime/timestamp)")
        records.append({"shopper_id": user, "sku": item, "timestamp": ts,
                        "rating": _first(row, ("rating", "overall"))})
    items = None
    if meta is not None:
        rows = _json_lines(_bytes(meta), "Amazon metadata")
        items = pd.DataFrame([{"sku": str(_first(r, ("parent_asin", "asin")) or ""), "title": str(r.get("title") or ""),
                               "category": _amazon_category(r)} for r in rows], columns=ITEM_COLUMNS)
        items = items[items["sku"] != ""].drop_duplicates("sku").reset_index(drop=True)
    return from_frame(pd.DataFrame(records), name, items)


def read_upload(filename: str, data: bytes) -> Interactions:
    """Pick the importer from an uploaded file's name: .inter (MMRec), .json/.jsonl[.gz] (Amazon), else CSV."""
    lower = filename.lower().removesuffix(".gz")
    if lower.endswith(".inter"):
        return read_mmrec(data, filename)
    if lower.endswith((".json", ".jsonl")):
        return read_amazon(data, name=filename)
    return read_csv(data, filename)


def load_interactions(workspace: Workspace, *, csv: str | Path | None = None, mmrec: str | Path | None = None,
                      amazon: str | Path | None = None, amazon_meta: str | Path | None = None) -> Interactions:
    """The one source named (default: the workspace's interactions.csv); files must exist."""
    chosen = [name for name, value in (("--interactions", csv), ("--mmrec", mmrec), ("--amazon", amazon)) if value]
    if len(chosen) > 1:
        raise EvaluationError(f"give one interaction source, not {' and '.join(chosen)}")
    if amazon_meta and not amazon:
        raise EvaluationError("--amazon-meta needs --amazon (the reviews file it describes)")
    for path in (csv, mmrec, amazon, amazon_meta):
        if path and not Path(path).is_file():
            raise EvaluationError(f"no such file: {path}")
    if mmrec:
        return read_mmrec(Path(mmrec), str(mmrec))
    if amazon:
        return read_amazon(Path(amazon), Path(amazon_meta) if amazon_meta else None, str(amazon))
    path = Path(csv) if csv else workspace.interactions_csv
    if not path.is_file():
        raise EvaluationError(f"no interactions at {path}: add a shopper_id,sku,timestamp CSV there, or pass "
                              "--interactions CSV, --mmrec FILE or --amazon FILE")
    return read_csv(path, str(path))
