"""Home: workspace summary with each representation's coverage, Sync, describers and connections, workspaces."""

import pandas as pd
import streamlit as st

from core.describe.registry import provider_class
from core.services.sample import build_sample
from core.services.summary import connection_status, provider_status, workspace_summary
from ui.connections import connections_panel
from ui.representations import sync_form
from ui.state import get_lab, user_errors, workspace_path
from ui.text import plain, safe_frame

st.title("Vitrine — merchandising lab")
st.caption("Preference-oriented product descriptions (VLM4Rec) → MiniLM embeddings → nearest-neighbour "
           "recommendations. Describe, inspect, map, simulate and preview cold starts.")

lab = get_lab()
with user_errors():
    summary = workspace_summary(lab)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Items", summary.items)
    c2.metric("Descriptions", summary.descriptions, delta=f"{summary.failed_descriptions} failed"
              if summary.failed_descriptions else None, delta_color="inverse")
    c3.metric("Representations", len(summary.representations))
    c4.metric("Active prompt", summary.active_prompt)
    st.caption(plain(f"Workspace: {summary.root} · active provider: {summary.active_provider} · "
                     f"interactions: {'yes' if summary.has_interactions else 'none'}"))

    if summary.items == 0:
        st.info("This workspace is empty. Build the sample catalogue (≈200 drawn products, offline), "
                "or upload your own images on the Catalog page.")
        if st.button("Build sample workspace", type="primary"):
            with st.status("Building sample workspace…", expanded=True) as status:
                bar = st.progress(0.0, text="describing")
                report = build_sample(lab, progress=lambda d, t, _: bar.progress(d / max(t, 1), text=f"{d}/{t}"))
                status.update(label=plain(f"Sample ready: {report.ingest.summary()}"), state="complete")
            st.rerun()

    st.subheader("Representations")
    st.caption("count: catalogue items with a vector · stale: vectors older than their item's title, image or "
               "description · missing: items a search or recommendation over it can never return")
    st.dataframe(safe_frame(pd.DataFrame(summary.representations)), hide_index=True, width="stretch",
                 column_config={"coverage": st.column_config.NumberColumn(format="percent")})
    if summary.items:
        st.subheader("Sync")
        st.caption("Brings title, visual and the active description run to full, fresh coverage of the catalogue: "
                   "only what is missing or stale is embedded or described, after the estimate below.")
        with user_errors():  # a provider that cannot run now is said here; the rest of the page still shows
            sync_form(lab, "home_sync", label="Sync now")
    left, right = st.columns(2)
    with left:
        if summary.categories:
            st.subheader("Categories")
            st.bar_chart(pd.Series(summary.categories, name="items"), horizontal=True)
    with right:
        st.subheader("Describers")
        for p in provider_status():
            st.markdown(f"{':material/check_circle:' if p.available else ':material/radio_button_unchecked:'} "
                        f"**{plain(p.label)}** — {plain(p.detail)}")
        if not any(p.available and provider_class(p.name).is_lvlm for p in provider_status()) and not any(
                s.available for s in connection_status(lab)):
            st.warning("No LVLM key found: descriptions come from the **offline tagger — not an LVLM** "
                       "(EfficientNet-Lite0 ImageNet tags + colour palette + item metadata). Set "
                       "OPENAI_API_KEY / ANTHROPIC_API_KEY, or add a connection to your own server (Ollama, "
                       "vLLM, LM Studio, llama.cpp) below, to use a real one.")
    st.subheader("Connections")
    connections_panel(lab)

with st.expander("Switch workspace"):
    st.write("A workspace is a folder holding a LanceDB database and the image store. "
             "Start the app with `VITRINE_WORKSPACE=/path make run`, or switch for this session:")
    new = st.text_input("Workspace folder", value=workspace_path())
    if st.button("Open workspace") and new != workspace_path():
        st.session_state["workspace"] = new
        st.session_state.pop("lab", None)
        st.rerun()
