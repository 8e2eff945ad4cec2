"""Catalogue upkeep behind the Catalog page: ingest uploads, filter, edit, describe new items, export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.access.audit import Action, record
from core.access.roles import require
from core.catalog import history
from core.catalog.ingest import CORE_COLUMNS, IngestReport, ingest
from core.catalog.journal import listing
from core.catalog.store import ITEM_SCHEMA
from core.errors import VitrineError
from core.lab import Lab
from core.safe_text import formula_safe_csv
from core.services.sync import keep_in_step

STORED_COLUMNS = tuple(ITEM_SCHEMA.names)
NOT_EXTRA = frozenset(STORED_COLUMNS) | frozenset(CORE_COLUMNS)  # everything else is merchandiser metadata


def extra_columns(items: pd.DataFrame) -> list[str]:
    """The metadata columns a CSV brought in (brand, price, ...), expanded from the `extra` JSON."""
    return [c for c in items.columns if c not in NOT_EXTRA]


def ingest_uploads(lab: Lab, uploads: list[tuple[str, bytes]], metadata: bytes | None = None) -> IngestReport:
    """Ingest uploaded images/zips and keep `title` and `visual` in step with the new or replaced items (their
    descriptions are queued: see core.services.sync.plan_sync)."""
    if not uploads:
        raise VitrineError("choose at least one image or .zip to upload")
    report = ingest(lab.store, lab.images, [], metadata, uploads=uploads)
    if report.accepted:
        keep_in_step(lab)
    return report


def filter_items(items: pd.DataFrame, categories: list[str] | None, text: str) -> pd.DataFrame:
    """Items in any of `categories` (all when empty) whose sku/title/category/metadata hold every word of `text`."""
    mask = np.ones(len(items), dtype=bool)
    if categories:
        mask &= items["category"].isin(categories).to_numpy()
    searchable = [items[c].fillna("").astype(str).str.lower() for c in
                  ("sku", "title", "category", *extra_columns(items))]
    for word in text.lower().split():
        mask &= np.logical_or.reduce([col.str.contains(word, regex=False).to_numpy() for col in searchable])
    return items[mask]


def catalogue_frame(items: pd.DataFrame) -> pd.DataFrame:
    """The merchandiser's view of items: sku, title, category, metadata, and the stored image file name."""
    frame = items[["sku", "title", "category"]].copy()
    for col in extra_columns(items):
        frame[col] = items[col].fillna("").astype(str)
    frame["image"] = items["image_sha256"] + "." + items["image_ext"]
    return frame.reset_index(drop=True)


def update_items(lab: Lab, edited_rows: list[dict]) -> int:
    """Save edited title/category/metadata; all rows are validated before anything is written.

    Returns how many items changed. Image, sku and timestamps always keep their stored values.
    """
    require(lab.store, Action.EDIT)
    stored = {r["sku"]: r for r in lab.store.items()[list(STORED_COLUMNS)].to_dict("records")}
    errors: list[str] = []
    changed: list[dict] = []
    seen: set[str] = set()
    for number, edited in enumerate(edited_rows, start=1):
        sku = _cell(edited.get("sku"))
        if sku not in stored:
            errors.append(f"row {number}: unknown SKU {sku!r}")
            continue
        if sku in seen:
            errors.append(f"row {number}: SKU {sku} appears twice")
            continue
        seen.add(sku)
        title = _cell(edited.get("title"))
        if not title:
            errors.append(f"{sku}: title must not be empty")
            continue
        old = stored[sku]
        extra = json.loads(old["extra"] or "{}")
        new_extra = dict(extra)
        for col, value in edited.items():
            if col not in NOT_EXTRA:
                if text := _cell(value):
                    new_extra[col] = text
                else:
                    new_extra.pop(col, None)
        category = _cell(edited.get("category")).lower() or "uncategorised"
        if (title, category) != (old["title"], old["category"]) or new_extra != extra:
            changed.append({**old, "title": title, "category": category,
                            "extra": json.dumps(new_extra, ensure_ascii=False)})
    if errors:
        raise VitrineError("nothing saved: " + "; ".join(errors[:10]) + (" …" if len(errors) > 10 else ""))
    lab.store.upsert_items(changed)
    if changed:  # title, category and attribute edits are inputs of title, metadata and description runs
        record(lab.store, Action.EDIT, skus=[r["sku"] for r in changed], detail=f"edited {len(changed)} item(s)' "
               "title, category or metadata")
        keep_in_step(lab)
    return len(changed)


def delete_items(lab: Lab, skus: list[str]) -> int:
    """Delete items and their vectors (undoable: the removed rows are journaled); unknown SKUs delete nothing."""
    wanted = list(dict.fromkeys(s.strip() for s in skus if s.strip()))
    if not wanted:
        raise VitrineError("name at least one SKU to delete")
    unknown = sorted(set(wanted) - set(lab.store.items()["sku"]))
    if unknown:
        raise VitrineError(f"nothing deleted: unknown SKU(s) {listing(unknown)}")
    return history.delete_items(lab.store, wanted)


def export_csv(items: pd.DataFrame) -> bytes:
    """CSV of the catalogue (re-importable as a metadata CSV), with spreadsheet formulas defused."""
    return formula_safe_csv(catalogue_frame(items))


def _cell(value: object) -> str:
    """An editor cell as stripped text; None/NaN (an emptied cell) reads as ''."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value).strip()
