"""The product-copy download (approved text plus facets per SKU, for a PIM): the same core function as
`vitrine export descriptions`, so the button and the CLI never disagree."""

from __future__ import annotations

import streamlit as st

from core.errors import VitrineError
from core.lab import Lab
from core.services.export import COPY_FORMATS, copy_bytes, product_copy
from core.services.runs import active_run, described_runs
from ui.text import plain

MIME = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}


@st.fragment
def copy_export_panel(lab: Lab) -> None:
    """Run, approved-only and format pickers, what is left out and why, and the download; a fragment, so choosing
    a format does not rerun the whole review page."""
    with st.expander("Export product copy"):
        try:
            active = active_run(lab).run
        except VitrineError as exc:
            st.error(plain(exc))
            return
        runs = list(dict.fromkeys([active, *described_runs(lab)]))
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        run = c1.selectbox("Run", runs, key="qa_copy_run",
                           format_func=lambda r: f"{r} (active)" if r == active else r)
        fmt = c2.segmented_control("Format", COPY_FORMATS, default="csv", key="qa_copy_format") or "csv"
        approved = c3.checkbox("Approved only", value=True, key="qa_copy_approved")
        try:
            copy = product_copy(lab, run, approved_only=approved)
        except VitrineError as exc:
            st.error(plain(exc))
            return
        st.caption(f"{len(copy.frame):,} item(s): text (a reviewer's edit winning), facets and QA status per SKU. "
                   "CSV cells that start like a spreadsheet formula are escaped.")
        for note in copy.notes():
            st.caption(plain(note))
        # The bytes, not a callable: a deferred file was sometimes gone when a rerun of the page (a QA action)
        # replaced the fragment between drawing the button and the browser asking for it (browser session walk).
        st.download_button(plain(f"Download {fmt.upper()}"), copy_bytes(copy.frame, fmt),
                           key="qa_copy_download", file_name=f"product_copy.{fmt}", mime=MIME[fmt],
                           disabled=copy.frame.empty, on_click="ignore")
