"""Item detail: image, metadata, every run's description of the item and its neighbours per representation.

Opened from any grid with ?sku=SKU (ui.links); model output and catalogue text are shown as plain text or cells.
"""

import pandas as pd
import streamlit as st

from core.services.item_view import item_detail
from core.services.qa import attribute_text
from ui.activity import activity_table
from ui.links import SKU_PARAM, item_link
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame
from ui.widgets import thumb_grid

NEIGHBOURS = 6
LINKED = "item_linked_sku"  # the ?sku= this session last followed, so a later pick is not undone

st.title("Item detail")
lab = get_lab()
items = lab.store.items()
if items.empty:
    st.info("The catalogue is empty: add images on the Catalog page.")
    st.stop()

skus = items["sku"].tolist()
wanted = st.query_params.get(SKU_PARAM)
if wanted != st.session_state.get(LINKED):  # a link just opened this page (from a grid, or a neighbour here)
    if wanted in skus:
        st.session_state["item_sku"] = wanted
    elif wanted:
        st.warning(plain(f"No item with SKU {wanted} in this workspace; pick one below."))
titles = dict(zip(items["sku"], items["title"], strict=True))
sku = st.selectbox("Item", skus, key="item_sku", format_func=lambda s: f"{s} · {titles[s]}")
st.query_params[SKU_PARAM] = st.session_state[LINKED] = sku  # the address bar names the item shown: shareable

with user_errors():
    detail = item_detail(lab, sku, k=NEIGHBOURS)
    left, right = st.columns([1, 2])
    left.image(detail.image_path, width="stretch")
    with right:
        st.text(f"{detail.item['sku']} · {detail.item['title']} · {detail.item['category']}")
        facts = pd.DataFrame([{"field": k, "value": str(v)} for k, v in detail.item.items()
                              if k not in ("sku", "title", "category")])
        st.dataframe(safe_frame(facts), hide_index=True, width="stretch")

    st.subheader("Descriptions")
    if detail.descriptions.empty:
        st.caption("No run has described this item's image yet.")
    else:
        runs = detail.descriptions.assign(attributes=detail.descriptions["attributes"].map(attribute_text))
        st.dataframe(safe_frame(runs.drop(columns="key")), hide_index=True, width="stretch", column_config={
            "current": st.column_config.CheckboxColumn("Current", help="Made for the item's present inputs "
                                                       "(title, category); older ones no longer drive rankings."),
            "text": st.column_config.TextColumn("Description", width="large"),
        })

    st.subheader("Neighbours")
    st.caption("The nearest items by cosine under each representation that holds this item.")
    for name, why in detail.missing.items():
        st.caption(plain(f"{name}: {why}"))
    if detail.neighbours:
        names = list(detail.neighbours)
        tabs = st.tabs([plain(n) for n in names], key="item_neighbours", on_change="rerun")
        for tab, name in zip(tabs, names, strict=True):
            if tab.open:
                with tab:
                    ranked = detail.neighbours[name]
                    scores = {r.sku: r.score for r in ranked}
                    thumb_grid(lab, items.set_index("sku").loc[list(scores)].reset_index(), columns=NEIGHBOURS,
                               caption=lambda r, s=scores: f"{r['sku']} · {r['title']} · {s[r['sku']]:.3f}",
                               footer=lambda r: item_link(r["sku"], "Details"))

    st.subheader("Activity")
    st.caption("Who changed this item, when and how: ingest, describe runs, edits, approvals, flags, deletions.")
    activity_table(lab, sku=sku)
