"""Human revisions of descriptions (the `qa_reviews` table): QA writes them, every embedding sync prefers them."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from core.catalog.store import Store

QA_TABLE = "qa_reviews"
REVIEW_SCHEMA = pa.schema([
    ("key", pa.string()),  # description key
    ("status", pa.string()),  # '' | approved | flagged | edited
    ("reason", pa.string()),  # why it was flagged
    ("edited_text", pa.string()),  # the human revision ('' = none)
    ("edited_at", pa.string()),
    ("note", pa.string()),  # free reviewer note
    ("reviewed_at", pa.string()),
    ("revision", pa.string()),  # a fresh token per save: a save names the one it edited (optimistic concurrency)
    ("reviewer", pa.string()),  # who saved it, as they named themselves ('' = unnamed)
    ("edited_attributes", pa.string()),  # the human revision of the facets, Attributes JSON ('' = none); added later
])


def reviews(store: Store, where: str | None = None) -> pd.DataFrame:
    return store.frame(QA_TABLE, REVIEW_SCHEMA, where)


def human_revisions(store: Store) -> dict[str, str]:
    """Description key -> human-edited text; embedding syncs must prefer these over the model text."""
    edited = reviews(store, "edited_text != ''")
    return dict(zip(edited["key"], edited["edited_text"], strict=True))


def human_facets(store: Store) -> dict[str, str]:
    """Description key -> human-edited facets (Attributes JSON); exports and QA prefer these over the model's."""
    edited = reviews(store, "edited_attributes != ''")
    return dict(zip(edited["key"], edited["edited_attributes"], strict=True))
