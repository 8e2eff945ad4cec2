"""Map diff: the same SKUs under two runs; which items moved, how much each category churned, and an item's old and
new neighbours."""

import streamlit as st

from core.services.change_figures import moved_figure
from core.services.map_diff import K, comparable, default_pair, map_diff
from ui.map_widgets import show_map
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame

PICKED = "md_last_pick"  # the chart selection already applied to the item picker

st.title("Map diff")
st.caption("What a prompt change does to the space: each item's top-k neighbours (by cosine) under two runs, over "
           "the items both runs cover. Overlap is the Jaccard index of the two neighbour lists (1 = same neighbours); "
           "a category's churn is 1 − its mean overlap.")
lab = get_lab()

with user_errors():
    names = comparable(lab)
    before_default, after_default = default_pair(lab)
    left, middle, right = st.columns([3, 3, 1])
    before = left.selectbox("Before", names, index=names.index(before_default), key="md_before")
    after = middle.selectbox("After", names, index=names.index(after_default), key="md_after")
    k = int(right.number_input("Neighbours (k)", min_value=1, max_value=50, value=K, key="md_k"))
    diff = map_diff(lab, before, after, k)

    first, *left_out = diff.coverage.lines(before, after)
    st.info(plain(first))
    for line in left_out:
        st.warning(plain(line))
    if diff.self_cosine_note:
        st.caption(plain(diff.self_cosine_note))

    st.metric(f"Mean top-{k:d} neighbour overlap over {diff.coverage.compared:,} items", f"{diff.mean_overlap:.3f}")
    st.subheader("Neighbourhood churn per category")
    st.dataframe(safe_frame(diff.categories), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("mean_overlap", "churn")})

    st.subheader("Items that moved most")
    st.caption("Low and left moved most. Click a dot to see that item's neighbours below.")
    picked = show_map(moved_figure(diff), "md_chart")
    st.dataframe(safe_frame(diff.items.head(50)), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("overlap", "self_cosine")})
    st.download_button("Download every item (CSV)", diff.csv(), file_name="map-diff.csv", mime="text/csv",
                       key="md_download")

    st.subheader("Old and new neighbours")
    options = diff.items["sku"].tolist()
    if picked and picked[0] in options and st.session_state.get(PICKED) != picked[0]:
        st.session_state["md_item"] = st.session_state[PICKED] = picked[0]  # a new click wins, once
    if st.session_state.get("md_item") not in options:
        st.session_state["md_item"] = options[0]
    titles = dict(zip(diff.items["sku"], diff.items["title"], strict=True))
    sku = st.selectbox("Item (most moved first)", options, key="md_item", format_func=lambda s: f"{s} · {titles[s]}")
    old, new = diff.neighbours(sku)
    left, right = st.columns(2)
    for column, name, table in ((left, before, old), (right, after, new)):
        column.caption(plain(f"Under {name}"))
        column.dataframe(safe_frame(table), hide_index=True, width="stretch",
                         column_config={"cosine": st.column_config.NumberColumn(format="%.3f")})
