"""Catalog: upload images, describe new items, browse, edit metadata, delete and export."""

import hashlib

import pandas as pd
import streamlit as st

from core.catalog.browse import SORTS, page_of, sorted_items
from core.catalog.images import IMAGE_SUFFIXES
from core.services.ab import describer_label
from core.services.sync import describe_queued, plan_sync
from core.services.upkeep import (
    catalogue_frame,
    delete_items,
    export_csv,
    filter_items,
    ingest_uploads,
    update_items,
)
from ui.jobs import stoppable, stopped_notice
from ui.links import item_link
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame
from ui.undo import undo_panel
from ui.widgets import thumb_grid

STATUSES = ("accepted", "updated", "duplicate", "rejected")
GRID_PAGE = 60  # thumbnails per grid page

st.title("Catalog")
lab = get_lab()
if flash := st.session_state.pop("catalog_flash", None):
    st.success(plain(flash))

with st.expander("Add images", expanded=lab.store.item_count() == 0):
    st.caption("Upload images or .zip archives. An optional metadata CSV (columns sku, image, and optionally "
               "title, category and any others) names each image's SKU; without it the file name is the SKU.")
    # A form: Streamlit disables its submit button while any of its uploads is still in progress, so Ingest can't
    # run with the images but without the CSV that names them (observed in a browser session).
    with st.form("catalog_upload", clear_on_submit=False, border=False):
        files = st.file_uploader("Images or .zip", accept_multiple_files=True,
                                 type=[s.lstrip(".") for s in sorted(IMAGE_SUFFIXES)] + ["zip"])
        csv_file = st.file_uploader("Metadata CSV (optional)", type=["csv"])
        submitted = st.form_submit_button("Ingest", type="primary")
    if submitted and not files:
        st.error("Choose images or a .zip to ingest first.")
    elif submitted:
        with user_errors(), st.status("Ingesting and embedding titles…", expanded=False) as status:
            report = ingest_uploads(lab, [(f.name, f.getvalue()) for f in files],
                                    csv_file.getvalue() if csv_file else None)
            st.session_state["catalog_ingest"] = report.as_rows()
            status.update(label=f"Ingested: {plain(report.summary())}", state="complete")
    if rows := st.session_state.get("catalog_ingest"):
        report_df = pd.DataFrame(rows)
        for col, status_name in zip(st.columns(len(STATUSES)), STATUSES, strict=True):
            col.metric(plain(status_name.title()), int((report_df["status"] == status_name).sum()))
        st.dataframe(safe_frame(report_df), hide_index=True, width="stretch")

with user_errors():
    plan = plan_sync(lab)
if plan.to_describe:  # queued descriptions: new, replaced, retitled or failed items, never skipped in silence
    st.info(f"{len(plan.to_describe)} item(s) have no description of their current inputs under the active run.")
    label = describer_label(lab, plan.provider, plan.model)  # as it names itself: the simulated LVLM with its p
    st.text(f"{plan.estimate()} ({label})")
    if not plan.is_lvlm:
        st.warning(f"The active provider is the {plain(label)}. It is **not an LVLM**: no vision-language model "
                   "reads the images or the prompt's wording. Set an API key and promote an LVLM run to describe "
                   "with a real vision-language model.")
    consent = (st.checkbox("Send them to this hosted provider", key="catalog_consent") if plan.hosted else True)
    stopped_notice("catalog_describe")
    if st.button("Describe new items with the active prompt", disabled=not consent):
        with user_errors(), stoppable("describing", "catalog_describe") as tick:
            run = describe_queued(lab, allow_hosted=consent, progress=tick)
            st.session_state["catalog_flash"] = f"Described: {run.summary()} → {run.representation}"
            st.rerun()

undo_panel(lab, "catalog")
items = lab.store.items()
if items.empty:
    st.info("The catalogue is empty: add images above, or build the sample workspace on the Home page.")
    st.stop()

left, right = st.columns([1, 2])
categories = left.multiselect("Categories", sorted(items["category"].unique()), placeholder="All categories")
text = right.text_input("Filter", placeholder="words in SKU, title or metadata")
shown = filter_items(items, categories, text)
st.caption(f"{len(shown)} of {len(items)} items")

browse, edit, delete = st.tabs(["Browse", "Edit", "Delete"])
with browse:
    s1, s2 = st.columns([2, 1], vertical_alignment="bottom")
    order = s1.segmented_control("Sort", list(SORTS), default="Newest first", key="catalog_sort") or "Newest first"
    pages = max(1, -(-len(shown) // GRID_PAGE))
    if st.session_state.get("catalog_page", 1) > pages:  # the filter narrowed the view below the chosen page
        st.session_state["catalog_page"] = pages
    page = page_of(sorted_items(shown, order), s2.number_input(f"Page (of {pages:,})", 1, pages, key="catalog_page"),
                   GRID_PAGE)
    thumb_grid(lab, page.rows, limit=GRID_PAGE, footer=lambda r: item_link(r["sku"], "Details"))
    if pages > 1:
        first = (page.number - 1) * GRID_PAGE
        st.caption(f"Items {first + 1:,}–{first + len(page.rows):,} of {len(shown):,}.")
    st.download_button("Export CSV", export_csv(shown), file_name="catalogue.csv", mime="text/csv",
                       help="The filtered items; cells that start like a spreadsheet formula are escaped.")

with edit:
    st.caption("Edit titles, categories and metadata, then save. SKU and image are read-only; "
               "categories are stored in lowercase.")
    # The key follows the rows shown and each save, so edits never carry over to other rows.
    version = st.session_state.get("catalog_editor_version", 0)
    digest = hashlib.sha1(f"{version}|{'|'.join(shown['sku'])}".encode()).hexdigest()[:12]
    edited = st.data_editor(catalogue_frame(shown), key=f"catalog_editor_{digest}", disabled=["sku", "image"],
                            hide_index=True, num_rows="fixed", width="stretch")
    if st.button("Save changes", type="primary"):
        with user_errors():
            saved = update_items(lab, edited.to_dict("records"))
            st.session_state["catalog_editor_version"] = version + 1
            st.session_state["catalog_flash"] = f"Saved {saved} item(s)."
            st.rerun()

with delete:
    chosen = st.multiselect("Items to delete", shown["sku"].tolist(), key="catalog_delete")
    confirmed = st.checkbox(f"I understand: this deletes {len(chosen)} item(s) and their vectors "
                            "(Undo brings them back).", key="catalog_delete_confirm")
    if st.button("Delete", type="primary", disabled=not (chosen and confirmed)):
        with user_errors():
            deleted = delete_items(lab, chosen)
            for key in ("catalog_delete", "catalog_delete_confirm"):
                del st.session_state[key]
            st.session_state["catalog_flash"] = f"Deleted {deleted} item(s)."
            st.rerun()
