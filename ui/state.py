"""One Lab per workspace for the whole server (st.cache_resource), with st.secrets wired into core."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import VitrineError
from core.lab import Lab, open_lab
from core.secrets import register_secret_source

LAB_KEY = "lab"  # a Lab placed in session_state (e.g. by AppTest) overrides the workspace


@st.cache_resource(show_spinner="Opening workspace…")
def _open(path: str) -> Lab:
    register_secret_source(lambda: st.secrets)
    return open_lab(path)


def workspace_path() -> str:
    return st.session_state.get("workspace") or os.environ.get("VITRINE_WORKSPACE") or "workspace"


def _route_through_app() -> None:
    """A fresh server's first deep link (e.g. /catalog) is routed by the pages/ folder, bypassing app.py's
    st.navigation until some session opens "/"; switch to st.navigation routing and rerun the same URL."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:  # what st.navigation itself clears on its first call
        PagesManager.uses_pages_directory = False
        st.rerun()


def get_lab() -> Lab:
    _route_through_app()
    if LAB_KEY in st.session_state:
        return st.session_state[LAB_KEY]
    return _open(workspace_path())


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn core's user-facing errors into st.error instead of a traceback."""
    try:
        yield
    except (VitrineError, FileNotFoundError, ValueError) as exc:
        st.error(str(exc))
