"""Semantic Map: a UMAP of any representation; search, click or box/lasso to see items, compare two side by side."""

import pandas as pd
import streamlit as st

from core.represent.map_figure import map_html
from core.represent.map_view import legend, matches, spread
from core.represent.maps import MIN_ITEMS, Projection, colour_options, project
from core.represent.recommend import default_representation
from core.services import qa
from ui.map_widgets import colour_label, map_figure, show_map
from ui.representations import pool_notice, representation_facts, with_coverage
from ui.state import get_lab, user_errors
from ui.text import plain
from ui.widgets import thumb_grid, thumbnail

GRID = 60  # thumbnails shown for a selection; a larger one is sampled evenly over the map

st.title("Semantic map")
st.caption("Each dot is a product, laid out by UMAP (cosine) so that items with similar vectors sit close together. "
           "Click a dot to see its picture, or drag a box or lasso over a region to see its products below.")
lab = get_lab()


def fitted(name: str) -> Projection:
    with st.spinner(f"Laying out {name} with UMAP… (a map not fitted before takes a few seconds)"):
        return project(lab, name)


def notice(name: str, key: str) -> None:
    """A map of a partial representation leaves the other items out: say so, and offer to complete it."""
    pool_notice(lab, reps, name, key, verb="maps", outcome="the others are not on this map")


def preview(row: dict) -> None:
    """One clicked item: its picture, and the values the map can be coloured by."""
    picture, facts = st.columns([1, 3])
    img = thumbnail(lab, row["image_sha256"])
    if img:
        picture.image(img, width="stretch")
    facts.markdown(f"**{plain(row['title'])}**")
    facts.caption(plain(f"{row['sku']} · {row['category']}"))
    for column in colour_options(pd.DataFrame([row]))[1:]:
        values = row[column]
        if values:
            facts.caption(plain(f"{colour_label(column)}: {', '.join(values)}"))


def review_selection(skus: list[str]) -> None:
    """Bulk approve or flag the selected items' descriptions in the mapped run (QA's rules, conflicts skipped)."""
    approve, reason, flag = st.columns([1, 2, 1], vertical_alignment="bottom")
    why = reason.text_input("Reason for flagging the selection", key="map_bulk_reason")
    verb = None
    if approve.button(f"Approve {len(skus):,} description(s)", key="map_bulk_approve", type="primary"):
        verb, result = "Approved", qa.approve_many(lab, qa.selection_versions(lab, rep_a, skus))
    if flag.button(f"Flag {len(skus):,} description(s)", key="map_bulk_flag"):
        verb, result = "Flagged", qa.flag_many(lab, qa.selection_versions(lab, rep_a, skus), why)
    if verb:
        st.success(plain(result.summary(verb)))
        for key, why_not in result.skipped:
            st.warning(plain(f"{key}: {why_not}"))


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
    query = st.text_input("Search the map", key="map_search", placeholder="Words from a title, SKU or description",
                          help="Items whose SKU, title or description contain every word are ringed; others fade.")
    maps = [map_a]
    titles = [rep_a]
    highlight: dict[str, list[str]] = {}
    if side_by_side:
        others = [n for n in names if n != rep_a]
        left, right = st.columns([2, 2])
        rep_b = left.selectbox("Compare with", others, format_func=with_coverage(reps), key="map_rep_b")
        item_titles = dict(zip(map_a.points["sku"], map_a.points["title"], strict=True))
        focus = right.selectbox("Highlight item", list(item_titles), index=None, placeholder="Pick an item to follow",
                                format_func=lambda s: f"{s} · {item_titles[s]}", key="map_focus")
        notice(rep_b, "map_sync_b")
        maps.append(fitted(rep_b))
        titles.append(rep_b)
        if focus:
            highlight["highlighted"] = [focus]
            if focus not in set(maps[1].points["sku"]):
                st.caption(plain(f"{focus} has no vector in {rep_b}, so it is not on that map."))
    found = None
    if query.strip():
        found = sorted({s for m in maps for s in m.points.loc[matches(lab, m.points, query), "sku"]})
        highlight["search matches"] = found
        st.caption(plain(f"{len(found):,} item(s) match “{query.strip()}”."))
    key = legend([m.points for m in maps], colour_by)  # one colour per value across both maps
    selected: list[str] = []
    for side, column, projection, title in zip("ab", st.columns(len(maps)), maps, titles, strict=False):
        with column:
            fig = map_figure(projection.points, colour_by, key=key, highlight=highlight or None, dim_except=found,
                             title=title if side_by_side else "")
            selected += show_map(fig, f"map_{side}")
    st.download_button("Download map (HTML)", data=lambda: map_html(lab, rep_a, colour_by, query),
                       file_name="semantic-map.html", mime="text/html", on_click="ignore", key="map_download",
                       help="The first map as one HTML file that opens offline, with a picture on hover.")

    st.subheader("Selection")
    chosen = map_a.points.drop_duplicates("sku").set_index("sku")
    if side_by_side:
        chosen = pd.concat([chosen, maps[1].points.set_index("sku")])
        chosen = chosen[~chosen.index.duplicated()]
    chosen = chosen.reindex([s for s in dict.fromkeys(selected) if s in chosen.index]).reset_index()
    if chosen.empty:
        st.caption("Click a dot, or box- or lasso-select points on the map, to see their products here.")
    elif len(chosen) == 1:
        preview(chosen.iloc[0].to_dict())
    else:
        st.caption(f"{len(chosen):,} selected product(s)"
                   + (f"; {GRID} of them, spread over the map, shown." if len(chosen) > GRID else "."))
        thumb_grid(lab, chosen.iloc[spread(chosen[["x", "y"]].to_numpy(), GRID)], limit=GRID)
    if len(chosen) and reps.set_index("name").loc[rep_a, "kind"] == "description":
        review_selection(chosen["sku"].tolist())
