"""Cold-start Preview: see where a new product would land before it is added; only the add button writes."""

import pandas as pd
import streamlit as st

from core.services.coldstart import REACH_K, add_to_catalogue, preview
from core.services.coldstart_report import placement, report_csv, report_markdown
from ui.links import item_footer
from ui.map_widgets import map_figure, show_map
from ui.representations import pool_notice, representation_facts, with_coverage
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame
from ui.widgets import thumb_grid

PREVIEW_KEY = "cold_start_preview"

st.title("Cold-start preview")
st.caption("Upload a new product photo: it is described with the active prompt and provider and embedded, then "
           "compared with the catalogue. Nothing is stored until you press “Add to catalogue”.")
lab = get_lab()

with user_errors():
    provider, model = lab.active_provider()
    st.caption(plain(f"Active prompt: {lab.active_prompt().ref} · provider: {provider}"
                     + (f" / {model}" if model else "")))
    with st.form("cold_start"):
        upload = st.file_uploader("Product image", type=["jpg", "jpeg", "png", "webp"], key="cs_image")
        left, right = st.columns(2)
        title = left.text_input("Title", placeholder="e.g. Oatmeal linen overshirt", key="cs_title")
        category = right.text_input("Category", placeholder="e.g. apparel", key="cs_category")
        left, right = st.columns(2)
        threshold = left.slider("Near-duplicate threshold (cosine)", 0.5, 1.0, 0.9, 0.01)
        k = right.slider("Neighbours", 1, 30, 10)
        submitted = st.form_submit_button("Preview", type="primary", key="cs_preview")
    if submitted:
        st.session_state.pop(PREVIEW_KEY, None)
        if upload is None:
            st.warning("Choose an image to preview.")
        else:
            with st.status("Describing, embedding and placing the new product…") as status:
                st.session_state[PREVIEW_KEY] = preview(lab, upload.getvalue(), title, category,
                                                        threshold=threshold, k=k, name=upload.name)
                status.update(label="Preview ready", state="complete")

    p = st.session_state.get(PREVIEW_KEY)
    if p is not None:
        reps = representation_facts(lab)
        pool_notice(lab, reps, p.representation, "cs_sync", verb="compares the new product with",
                    outcome="its neighbours, near-duplicates and audience reach only count those")
        image_col, text_col = st.columns([1, 3])
        image_col.image(p.image.data, caption=plain(f"{p.title} · {p.category}"), width="stretch")
        with text_col:
            st.caption(plain(f"Description ({p.prompt.ref} via {p.description.provider}/{p.description.model}) "
                             f"embedded in {with_coverage(reps)(p.representation)}"))
            st.text(p.description.text)
            attrs = {f: ", ".join(v) for f, v in p.description.attributes.model_dump().items() if v}
            if attrs:
                st.dataframe(safe_frame(pd.DataFrame([attrs])), hide_index=True, width="stretch")

        if p.same_image:
            st.warning(plain(f"This exact image is already in the catalogue as {', '.join(p.same_image)}."))
        if p.near_duplicates:
            st.warning(plain(f"Cannibalisation risk: {len(p.near_duplicates)} catalogue item(s) at cosine ≥ "
                             f"{p.threshold:.2f}: " + ", ".join(f"{r.sku} ({r.score:.3f})" for r in p.near_duplicates)))
        elif p.pool.partial:
            st.success(f"None of the {p.pool.covered:,} items compared is closer than cosine {p.threshold:.2f}.")
        else:
            st.success(f"No catalogue item is closer than cosine {p.threshold:.2f}.")

        st.subheader("Nearest catalogue items")
        neighbours = pd.DataFrame([r.as_dict() for r in p.neighbours])
        thumb_grid(lab, neighbours, caption=lambda r: f"{r['sku']} · {r['title']} · {r['score']:.3f}", limit=k,
                   footer=item_footer)
        st.dataframe(safe_frame(neighbours[["sku", "title", "category", "score"]]), hide_index=True, width="stretch",
                     column_config={"score": st.column_config.NumberColumn(format="%.3f")})

        st.subheader("Audience reach")
        if p.shoppers == 0:
            st.info("No interactions.csv in this workspace: audience reach needs sample shoppers.")
        else:
            st.metric(f"Sample shoppers who would see it in their top-{REACH_K}", f"{len(p.reached)} / {p.shoppers}")
            if p.reached:
                cutoff = f"their #{REACH_K} score"
                st.dataframe(safe_frame(pd.DataFrame([{"shopper": r.shopper_id, "score": r.score, cutoff: r.cutoff}
                                           for r in p.reached])), hide_index=True, width="stretch",
                             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("score", cutoff)})

        st.subheader("Placement")
        st.caption(plain(placement(p).sentence()))
        if p.projection is None:
            st.info(plain(p.map_note))
        else:
            placed = pd.DataFrame([{"label": "new", "x": p.position[0], "y": p.position[1]}])
            show_map(map_figure(p.projection.points, "category", extra=placed,
                                highlight={"neighbours": [r.sku for r in p.neighbours]}), "cold_start_map")

        st.subheader("Take the report away")
        left, right = st.columns(2)
        left.download_button("Download report (Markdown)", report_markdown(p), file_name="cold-start-report.md",
                             mime="text/markdown", key="cs_report_md")
        right.download_button("Download report (CSV)", report_csv(p), file_name="cold-start-report.csv",
                              mime="text/csv", key="cs_report_csv")

        st.subheader("Add to catalogue")
        left, right = st.columns([2, 1])
        sku = left.text_input("New SKU", placeholder="e.g. SKU-1234", key="cs_sku")
        if right.button("Add to catalogue", type="primary", disabled=not sku.strip(), key="cs_add"):
            updated = add_to_catalogue(lab, p, sku)
            st.session_state.pop(PREVIEW_KEY)
            st.success(plain(f"Added {sku.strip()} to the catalogue"
                             + (f" and embedded it in {', '.join(updated)}." if updated else ".")))
