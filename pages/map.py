"""Semantic Map: a UMAP of any representation; box/lasso a region to see its items, or compare two side by side."""

import streamlit as st

from core.represent.maps import MIN_ITEMS, Projection, colour_options, project
from core.represent.recommend import default_representation
from ui.map_widgets import colour_label, map_figure, show_map
from ui.representations import pool_notice, representation_facts, with_coverage
from ui.state import get_lab, user_errors
from ui.text import plain
from ui.widgets import thumb_grid

st.title("Semantic map")
st.caption("Each dot is a product, laid out by UMAP (cosine) so that items with similar vectors sit close together. "
           "Drag a box or lasso over a region to see its products below.")
lab = get_lab()


def fitted(name: str) -> Projection:
    with st.spinner(f"Laying out {name} with UMAP… (a map not fitted before takes a few seconds)"):
        return project(lab, name)


def notice(name: str, key: str) -> None:
    """A map of a partial representation leaves the other items out: say so, and offer to complete it."""
    pool_notice(lab, reps, name, key, verb="maps", outcome="the others are not on this map")


with user_errors():
    reps = representation_facts(lab)
    names = reps.loc[reps["count"] >= MIN_ITEMS, "name"].tolist()
    if not names:
        st.info(f"No representation holds {MIN_ITEMS} or more items yet: add and describe items on the Catalog page.")
        st.stop()
    default = default_representation(lab)
    left, middle, right = st.columns([2, 1, 1])
    rep_a = left.selectbox("Representation", names, index=names.index(default) if default in names else 0,
                           format_func=with_coverage(reps), key="map_rep")
    side_by_side = right.toggle("Side by side", disabled=len(names) < 2, key="map_side",
                                help="Lay out a second representation next to the first and follow one item in both.")
    notice(rep_a, "map_sync_a")
    map_a = fitted(rep_a)
    colour_by = middle.selectbox("Colour by", colour_options(map_a.points), format_func=colour_label,
                                 key="map_colour")
    selected: list[str] = []
    if side_by_side:
        others = [n for n in names if n != rep_a]
        left, right = st.columns([2, 2])
        rep_b = left.selectbox("Compare with", others, format_func=with_coverage(reps), key="map_rep_b")
        titles = dict(zip(map_a.points["sku"], map_a.points["title"], strict=True))
        focus = right.selectbox("Highlight item", list(titles), index=None, placeholder="Pick an item to follow",
                                format_func=lambda s: f"{s} · {titles[s]}", key="map_focus")
        notice(rep_b, "map_sync_b")
        map_b = fitted(rep_b)
        highlight = {"highlighted": [focus]} if focus else None
        if focus and focus not in set(map_b.points["sku"]):
            st.caption(plain(f"{focus} has no vector in {rep_b}, so it is not on that map."))
        col_a, col_b = st.columns(2)
        with col_a:
            selected += show_map(map_figure(map_a.points, colour_by, highlight=highlight, title=rep_a), "map_a")
        with col_b:
            selected += show_map(map_figure(map_b.points, colour_by, highlight=highlight, title=rep_b), "map_b")
    else:
        selected = show_map(map_figure(map_a.points, colour_by), "map_a")

    st.subheader("Selection")
    items = lab.store.items()
    chosen = items[items["sku"].isin(selected)]
    if chosen.empty:
        st.caption("Box- or lasso-select points on the map to list their products here.")
    else:
        st.caption(f"{len(chosen)} selected product(s).")
        thumb_grid(lab, chosen)
