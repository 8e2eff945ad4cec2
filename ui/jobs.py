"""Long jobs on a page: a progress bar with a Stop button. Pressing Stop (or leaving the page) reruns the script,
which interrupts the job at its next progress update; core stops sending work and keeps every finished result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.models import Progress


@contextmanager
def stoppable(label: str, key: str) -> Iterator[Progress]:
    """Yield a progress callback for a core job, drawn beside a Stop button."""
    st.button("Stop (keeps finished work)", key=f"{key}_stop", on_click=_mark_stopped, args=(key,))
    bar = st.progress(0.0, text=label)
    yield lambda done, total, what: bar.progress(done / max(total, 1), text=f"{done}/{total} · {what}")
    bar.empty()


def stopped_notice(key: str) -> None:
    """On the rerun a Stop caused: say what happened, once."""
    if st.session_state.pop(f"{key}_stopped", False):
        st.info("Stopped: nothing new was sent, and every description finished before the stop was kept. "
                "Run it again to continue where it stopped (finished items are not paid for twice).")


def _mark_stopped(key: str) -> None:
    st.session_state[f"{key}_stopped"] = True
