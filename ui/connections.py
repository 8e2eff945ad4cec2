"""Home's Connections panel: list, add, test ("send one image, show the reply and the latency") and remove the
workspace's named connections. Replies are model output: shown with st.text only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.describe.connections import Connection, add_connection, connectable_providers, remove_connection
from core.lab import Lab
from core.services.connection_check import try_connection
from core.services.summary import connection_status
from ui.state import user_errors
from ui.text import plain, safe_frame

FLASH = "conn_flash"  # a message shown once on the rerun an add or remove causes


def connections_panel(lab: Lab) -> None:
    """Every connection with where its images go and whether a run through it would start now, then the forms."""
    if message := st.session_state.pop(FLASH, None):
        st.success(plain(message))
    statuses = connection_status(lab)
    if statuses:
        st.dataframe(safe_frame(pd.DataFrame([{
            "name": s.connection.name, "provider": s.connection.provider, "model": s.connection.model,
            "server": s.connection.base_url or "the provider's API", "where": s.where,
            "available": s.available, "key": s.detail,
            "structured output": s.connection.capabilities.get("structured_mode", "not probed yet"),
        } for s in statuses])), hide_index=True, width="stretch")
    else:
        st.caption("No connections yet. Add one for a local server (Ollama, vLLM, LM Studio, llama.cpp) or an API "
                   "model; keys are never stored: set VITRINE_KEY_<NAME> in the environment or secrets.toml.")
    add_form(lab)
    if statuses:
        names = [s.connection.name for s in statuses]
        check_form(lab, names)
        remove_form(lab, names)


def add_form(lab: Lab) -> None:
    with st.expander("Add a connection"), st.form("conn_add"):
        left, right = st.columns(2)
        name = left.text_input("Name", placeholder="e.g. ollama", key="conn_name")
        provider = right.selectbox("Provider", connectable_providers(), key="conn_provider",
                                   help="openai speaks to any OpenAI-compatible server (Ollama, vLLM, LM Studio, "
                                        "llama.cpp)")
        model = left.text_input("Model", placeholder="as the server names it, e.g. llava:7b", key="conn_model")
        base_url = right.text_input("Base URL", placeholder="e.g. http://localhost:11434/v1 (blank: the API)",
                                    key="conn_base_url")
        timeout = left.number_input("Timeout per request (s, 0 = provider default)", 0.0, 3600.0, 0.0,
                                    key="conn_timeout")
        deadline = right.number_input("Deadline per item (s, 0 = provider default)", 0.0, 3600.0, 0.0,
                                      key="conn_deadline")
        side = left.number_input("Image long side (px, 0 = provider default)", 0, 8192, 0, key="conn_side")
        concurrency = right.number_input("Concurrency", 1, 64, 4, key="conn_concurrency")
        detail = st.radio("Image detail (OpenAI)", ["server default", "auto", "low", "high"], horizontal=True,
                          key="conn_detail")
        if st.form_submit_button("Add connection", type="primary", key="conn_add_submit"):
            with user_errors():
                added = add_connection(lab.store, Connection(
                    name=name.strip(), provider=provider, model=model.strip(), base_url=base_url.strip(),
                    timeout=float(timeout) or None, item_deadline=float(deadline) or None,
                    image_max_side=int(side) or None, detail=None if detail == "server default" else detail,
                    concurrency=int(concurrency)))
                st.session_state[FLASH] = (f"Added {added.label()}. If it needs a key, set {added.key_var} in the "
                                           "environment or .streamlit/secrets.toml.")
                st.rerun()


def check_form(lab: Lab, names: list[str]) -> None:
    with st.expander("Test a connection"):
        name = st.selectbox("Connection", names, key="conn_test_name")
        upload = st.file_uploader("Image to send (default: the catalogue's first item)", type=["jpg", "jpeg", "png",
                                  "webp"], key="conn_test_image")
        if st.button("Send one image", key="conn_test"):
            with user_errors(), st.spinner("Waiting for the reply…"):
                check = try_connection(lab, name, upload.getvalue() if upload else None,
                                       upload.name if upload else "upload")
                st.metric("Latency", f"{check.latency_ms:,.0f} ms")
                st.text(f"Sent {check.image} with the active prompt. Reply:")
                st.text(check.reply)
                for facet, values in check.attributes.items():
                    st.text(f"{facet}: {', '.join(values)}")


def remove_form(lab: Lab, names: list[str]) -> None:
    with st.expander("Remove a connection"):
        name = st.selectbox("Connection", names, key="conn_remove_name")
        sure = st.checkbox("Forget it (runs made through it still go to the same server)", key="conn_remove_sure")
        if st.button("Remove", key="conn_remove", disabled=not sure):
            with user_errors():
                removed = remove_connection(lab.store, name)
                st.session_state[FLASH] = f"Removed {removed.label()}."
                st.rerun()
