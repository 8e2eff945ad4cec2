"""Widgets several pages share: thumbnail grids and item cards. Model output is shown as plain text."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.lab import Lab
from ui.text import plain


def thumbnail(lab: Lab, sha256: str) -> str | None:
    path = lab.images.thumb_path(sha256)
    return str(path) if path.exists() else None


def thumb_grid(lab: Lab, items: pd.DataFrame, *, caption: Callable[[dict], str] | None = None,
               columns: int = 6, limit: int = 60, footer: Callable[[dict], None] | None = None) -> None:
    """Items as a grid of thumbnails; captions (titles, SKUs) are escaped, as st.image renders them as Markdown."""
    rows = items.head(limit).to_dict("records")
    if not rows:
        st.caption("No items to show.")
        return
    for start in range(0, len(rows), columns):
        cols = st.columns(columns)
        for col, row in zip(cols, rows[start:start + columns], strict=False):
            with col:
                img = thumbnail(lab, row["image_sha256"])
                text = caption(row) if caption else f"{row['sku']} · {row['title']}"
                if img:
                    st.image(img, caption=plain(text), width="stretch")
                else:
                    st.text(text)
                if footer:
                    footer(row)
    if len(items) > limit:
        st.caption(f"Showing {limit:,} of {len(items):,} items.")
