"""One Lab per workspace for the whole server (st.cache_resource), with st.secrets wired into core."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import streamlit as st

from core.config import settings
from core.describe.secrets import register_secret_source
from core.errors import VitrineError
from core.lab import Lab, open_lab
from core.represent import maps
from core.represent.recommend import default_representation
from core.services import qa
from core.services.doctor import repair
from ui.text import plain

LAB_KEY = "lab"  # a Lab placed in session_state (e.g. by AppTest) overrides the workspace
REPAIR_SEEN = "repair_seen"  # the workspaces whose repair report this session has shown
SAVED_PROMPT = "saved_prompt"  # the prompt version this session saved last: the default wherever one is picked next


@st.cache_resource(show_spinner="Opening workspace…")
def _open(path: str) -> Lab:
    register_secret_source(lambda: st.secrets)
    lab = open_lab(path)
    _repairs()[path] = _repair(lab)
    threading.Thread(target=_warm_up, args=(lab,), name="vitrine-warm-up", daemon=True).start()
    return lab


def _warm_up(lab: Lab) -> None:
    """Once per server and workspace: start the slow work of first visits in worker processes while the user is
    still on the first pages: Description QA's image colour check and the Semantic Map's default map."""
    qa.warm_colours(lab)
    with suppress(VitrineError):  # no representation yet: nothing to map
        maps.prefit(lab, default_representation(lab))


@st.cache_resource(show_spinner=False)
def _repairs() -> dict[str, list[str]]:
    """Workspace path -> what the repair did when the server opened it ([] = nothing needed)."""
    return {}


def _repair(lab: Lab) -> list[str]:
    """Re-embed vectors a crash left missing or stale (local models only, never a describer): lines to show."""
    try:
        report = repair(lab)
    except (VitrineError, OSError) as exc:
        return [f"the check for vectors a crash left missing or stale failed: {exc}"]
    return report.lines() if report.repaired else []


def _show_repair(path: str) -> None:
    """Once per session, say what opening the workspace repaired."""
    seen = st.session_state.setdefault(REPAIR_SEEN, set())
    if path not in seen and (lines := _repairs().get(path)):
        seen.add(path)
        st.info(plain("Opening this workspace repaired what an interrupted run left behind: " + "; ".join(lines)))


def workspace_path() -> str:
    return st.session_state.get("workspace") or settings().workspace


@st.cache_resource(show_spinner=False)
def _routed_through_app() -> list[bool]:
    return []


def _route_through_app() -> None:
    """A fresh server's first deep link (e.g. /catalog) is routed by the pages/ folder, bypassing app.py's
    st.navigation until some session opens "/"; switch to st.navigation routing and rerun the same URL.
    Once per server: AppTest re-arms the flag on every run and a rerun there would drop widget clicks."""
    from streamlit.runtime.pages_manager import PagesManager

    done = _routed_through_app()
    if PagesManager.uses_pages_directory and not done:  # what st.navigation itself clears on its first call
        done.append(True)
        PagesManager.uses_pages_directory = False
        st.rerun()


def get_lab() -> Lab:
    _route_through_app()
    if LAB_KEY in st.session_state:
        return st.session_state[LAB_KEY]
    path = workspace_path()
    lab = _open(path)
    _show_repair(path)
    return lab


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn core's user-facing errors into st.error instead of a traceback."""
    try:
        yield
    except (VitrineError, FileNotFoundError, ValueError) as exc:
        st.error(plain(str(exc)))
