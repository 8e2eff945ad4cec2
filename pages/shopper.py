"""Shopper Simulator: build a shopper (picked items, a persona, or a sample shopper) and inspect what they are shown."""

import pandas as pd
import streamlit as st

from core.represent.maps import place, project
from core.represent.recommend import default_representation
from core.represent.shoppers import Shopper, compare_lists, persona_profile, sample_shoppers, sensitivity, simulate
from ui.links import item_footer
from ui.map_widgets import map_figure, show_map
from ui.representations import pool_notice, ranking_notes, representation_facts, with_coverage
from ui.shopper_link import ShopperLink, read_link
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame
from ui.widgets import thumb_grid

PICKED, PERSONA, SAMPLE = "Picked items", "Persona text", "Sample shopper"
HELD_OUT_KEY = "shopper_held_out"  # sample shopper -> the items an evaluation held out (from its link)

st.title("Shopper simulator")
st.caption("A shopper's profile is the mean of their history items' vectors; they are recommended the nearest items "
           "by cosine, never one they already have. A persona text is embedded and ranked the same way.")
lab = get_lab()


def because(row: dict) -> None:
    """The explanation under a recommendation, as plain text (attributes are model output), and its details link."""
    if row["closest_history"]:
        st.text(f"closest to {row['closest_history']}")
    shared = "; ".join(f"{facet}: {', '.join(values)}" for facet, values in row["shared_attributes"].items())
    if shared:
        st.text(f"shared {shared}")
    item_footer(row)


def show_list(shopper: Shopper, k: int, held_out: list[str]) -> None:
    recs = pd.DataFrame([r.as_dict() for r in shopper.recommendations])
    st.caption(plain(shopper.representation))
    ranking_notes(shopper.recommendations.pool)
    ranks = {r.sku: rank for rank, r in enumerate(shopper.recommendations, 1)}
    for sku in held_out:
        st.caption(plain(f"held-out {sku}: " + (f"#{ranks[sku]} of {len(ranks)}" if sku in ranks else
                                                  f"not in the top {len(ranks)}")))
    if recs.empty:
        return
    thumb_grid(lab, recs, caption=lambda r: f"{r['sku']} · {r['score']:.3f}", columns=5, limit=k, footer=because)
    table = recs.assign(shared=[", ".join(v for vals in s.values() for v in vals) for s in recs["shared_attributes"]])
    st.dataframe(safe_frame(table[["sku", "title", "score", "closest_history", "shared"]]), hide_index=True,
                 width="stretch", column_config={"score": st.column_config.NumberColumn(format="%.3f")})


@st.fragment
def shopper_view(source: str, rep_a: str, rep_b: str | None, k: int, titles: dict[str, str],
                 items: pd.DataFrame) -> None:
    """Who the shopper is and what they are shown: picking another shopper reruns only this part of the page."""
    with user_errors():
        history: list[str] = []
        held_out: list[str] = []
        persona = ""
        if source == PICKED:
            history = st.multiselect("History items (oldest first)", list(titles), key="shopper_history",
                                     format_func=lambda s: f"{s} · {titles[s]}", placeholder="What the shopper bought")
        elif source == PERSONA:
            persona = st.text_input("Persona", placeholder="minimalist office wear, natural fabrics",
                                    key="shopper_persona")
        else:
            shoppers = sample_shoppers(lab)
            if not shoppers:
                st.info("This workspace has no interactions.csv (shopper_id, sku, timestamp) to load shoppers from.")
                return
            shopper_id = st.selectbox("Sample shopper", list(shoppers), key="shopper_sample",
                                      format_func=lambda s: f"{s} ({len(shoppers[s])} interactions)")
            history = shoppers[shopper_id]
            held_out = [s for s in st.session_state.get(HELD_OUT_KEY, {}).get(shopper_id, []) if s in history]
        if held_out:
            history = [s for s in history if s not in held_out]
            st.info(plain(f"Held out by the evaluation: {', '.join(held_out)}. The history leaves them out, as the "
                          "evaluation did, so each list below says where it ranks."))
            thumb_grid(lab, items[items["sku"].isin(held_out)], columns=8, footer=item_footer)
        if history:
            show_history(source, history, titles, items)
        if not history and not persona.strip():
            st.caption("Pick history items, write a persona, or load a sample shopper to see recommendations.")
            return
        recommendations(history, persona, rep_a, rep_b, k, titles, held_out)


def show_history(source: str, history: list[str], titles: dict[str, str], items: pd.DataFrame) -> None:
    """The history's thumbnails, drawn only while the expander is open (a closed one is just its label)."""
    box = st.expander(f"History: {len(history)} item(s)", expanded=source == PICKED, on_change="rerun",
                      key=f"shopper_history_open_{source}")
    if box.open:
        with box:
            picked = items.set_index("sku").reindex([s for s in dict.fromkeys(history) if s in titles]).reset_index()
            thumb_grid(lab, picked, columns=8, footer=item_footer)


def recommendations(history: list[str], persona: str, rep_a: str, rep_b: str | None, k: int,
                    titles: dict[str, str], held_out: list[str]) -> None:
    """The top-k (beside a second representation's, if chosen), and the optional sensitivity table and map."""
    def build(representation: str) -> Shopper:
        if persona.strip():
            return persona_profile(lab, persona, representation, k)
        return simulate(lab, history, k, representation)

    shopper = build(rep_a)
    st.subheader("Recommendations")
    if rep_b is None:
        show_list(shopper, k, held_out)
    else:
        other = build(rep_b)
        overlap = compare_lists(shopper.recommendations, other.recommendations)
        c1, c2 = st.columns(2)
        c1.metric(f"Overlap@{overlap.k:d}", f"{overlap.count} / {overlap.k}")
        c2.metric("Jaccard", f"{overlap.jaccard:.2f}")
        col_a, col_b = st.columns(2)
        with col_a:
            show_list(shopper, k, held_out)
        with col_b:
            show_list(other, k, held_out)

    if len(set(history)) >= 2 and st.toggle("Remove one history item", key="shopper_sensitivity",
                                            help="Drop each history item in turn: how much of the list survives?"):
        rows = sensitivity(lab, history, k, rep_a)
        st.dataframe(safe_frame(pd.DataFrame([{
            "removed": r.removed, "title": titles.get(r.removed, ""), "overlap": f"{r.overlap} / {r.k}",
            "jaccard": r.jaccard, "entered": ", ".join(r.entered), "left": ", ".join(r.left),
        } for r in rows])), hide_index=True, width="stretch",
            column_config={"jaccard": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f")})

    if st.toggle("Show on the semantic map", key="shopper_map_on"):
        with st.spinner(f"Laying out {rep_a} with UMAP…"):
            projection = project(lab, rep_a)
            xy = place(projection, shopper.profile)[0]
        label = "persona" if persona.strip() else "profile"
        fig = map_figure(projection.points, "category", extra=pd.DataFrame([{"label": label, "x": xy[0], "y": xy[1]}]),
                         highlight={"history": history, "recommended": [r.sku for r in shopper.recommendations]})
        show_map(fig, "shopper_map")


def open_link(link: ShopperLink, representations: list[str]) -> None:
    """Select the linked shopper and the compared representations, and hold out the evaluation's test items; say
    which compared methods are baselines with no vectors to show."""
    st.session_state.update({"shopper_source": SAMPLE, "shopper_sample": link.shopper,
                             HELD_OUT_KEY: {link.shopper: list(link.held_out)}})
    shown = [m for m in link.representations if m in representations]
    st.session_state["shopper_rep_b"] = shown[1] if len(shown) > 1 else None
    if shown:
        st.session_state["shopper_rep"] = shown[0]
    if skipped := [m for m in link.representations if m not in representations]:
        st.caption(plain(f"Compared in the evaluation but not shown here (a baseline or fusion, not a stored "
                         f"representation): {', '.join(skipped)}"))


with user_errors():
    reps = representation_facts(lab)
    reps = reps[reps["count"] > 0]
    items = lab.store.items()
    if reps.empty or items.empty:
        st.info("No vectors yet: add items and describe them on the Catalog page.")
        st.stop()
    titles = dict(zip(items["sku"], items["title"], strict=True))

    if (link := read_link(st.query_params)) is not None:  # "Open in Shopper Simulator" from Evaluation
        st.query_params.clear()  # applied once: the reviewer's own choices win from here on
        open_link(link, reps["name"].tolist())
    source = st.radio("Build the shopper from", [PICKED, PERSONA, SAMPLE], horizontal=True, key="shopper_source")
    text_only = source == PERSONA  # a persona is text: it cannot be compared with image features
    names = reps.loc[reps["kind"] != "visual", "name"].tolist() if text_only else reps["name"].tolist()
    if not names:
        st.info("A persona needs a description or title representation.")
        st.stop()
    default = default_representation(lab)
    left, middle, right = st.columns([2, 2, 1])
    rep_a = left.selectbox("Representation", names, index=names.index(default) if default in names else 0,
                           format_func=with_coverage(reps), key="shopper_rep")
    rep_b = middle.selectbox("Compare with", [n for n in names if n != rep_a], index=None,
                             placeholder="(no comparison)", format_func=with_coverage(reps), key="shopper_rep_b")
    k = right.slider("k", 1, 30, 10, key="shopper_k")
    for name, key in ((rep_a, "shopper_sync_a"), (rep_b, "shopper_sync_b")):
        if name is not None:
            pool_notice(lab, reps, name, key)

    shopper_view(source, rep_a, rep_b, k, titles, items)
