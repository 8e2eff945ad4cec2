"""Activity: the workspace's append-only audit log (who did what, when), filterable by SKU and time."""

import streamlit as st

from core.access.audit import parse_since
from ui.activity import activity_table
from ui.state import get_lab, user_errors

st.title("Activity")
st.caption("Every change to this workspace, newest first: ingest, describe runs (connection and cost), edits, "
           "approvals, flags, votes, promotions, deletions, undos and restores. The log only grows.")
lab = get_lab()
c1, c2 = st.columns(2)
sku = c1.text_input("SKU", key="act_sku", placeholder="all items").strip()
since = c2.text_input("Since", key="act_since", placeholder="2026-03-01, 24h, 7d").strip()
with user_errors():
    activity_table(lab, sku=sku or None, since=parse_since(since) if since else None)
