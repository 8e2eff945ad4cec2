"""Links to the item detail page (pages/item.py?sku=...), for every grid and table that shows items."""

from __future__ import annotations

import streamlit as st

from ui.text import plain

ITEM_PAGE = "pages/item.py"
SKU_PARAM = "sku"


def item_link(sku: str, label: str | None = None) -> None:
    """A link that opens the item's detail page; the SKU travels as ?sku=, so the URL can be shared."""
    st.page_link(ITEM_PAGE, label=plain(label or f"Details of {sku}"), icon=":material/open_in_new:",
                 query_params={SKU_PARAM: sku})


def item_footer(row: dict) -> None:
    """A grid cell's link to its item's detail page (ui.widgets.thumb_grid's footer)."""
    item_link(row["sku"], "Details")


def open_item(sku: str) -> None:
    """Go to the item's detail page now (from a selection or a button)."""
    st.switch_page(ITEM_PAGE, query_params={SKU_PARAM: sku})
