"""The audit log as a table: the workspace Activity page and an item's own history use the same rendering."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.audit import events
from core.lab import Lab
from ui.text import safe_frame


def activity_table(lab: Lab, *, sku: str | None = None, since=None) -> None:
    """Newest first: when, who (and how established), what, on which SKUs."""
    frame = events(lab.store, sku=sku, since=since)
    if frame.empty:
        st.caption("No recorded activity" + (" for this item." if sku else " yet."))
        return
    shown = frame.assign(skus=[", ".join(s) for s in frame["skus"]])[["at", "actor", "via", "action", "skus",
                                                                     "detail"]]
    st.dataframe(safe_frame(pd.DataFrame(shown)), hide_index=True, width="stretch",
                 column_config={"via": st.column_config.TextColumn(help="sign-in: verified; cli / os: as stated")})
