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


def get_lab() -> Lab:
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
