"""Sorting and paging the catalogue grid, so a new upload is one click away instead of hidden past item 60."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.errors import VitrineError

SORTS = {  # label -> (column, ascending); ties keep SKU order
    "Newest first": ("added_at", False),
    "SKU": ("sku", True),
    "Title": ("title", True),
}


def sorted_items(items: pd.DataFrame, order: str) -> pd.DataFrame:
    """Items in the chosen order; titles compare case-insensitively."""
    if order not in SORTS:
        raise VitrineError(f"unknown sort {order!r}; choose one of: {', '.join(SORTS)}")
    column, ascending = SORTS[order]
    ranked = items.sort_values("sku", kind="stable")
    return ranked.sort_values(column, ascending=ascending, kind="stable",
                              key=lambda s: s.fillna("").str.lower()).reset_index(drop=True)


@dataclass(frozen=True)
class Page:
    rows: pd.DataFrame
    number: int  # 1-based, clamped to the pages there are
    pages: int


def page_of(frame: pd.DataFrame, number: int, size: int) -> Page:
    """One page of rows; a page past the end (the filter narrowed the view) is the last one."""
    pages = max(1, -(-len(frame) // size))
    number = min(max(number, 1), pages)
    return Page(frame.iloc[(number - 1) * size:number * size], number, pages)
