"""The app's Undo: the last destructive action (delete, description edit, restore), what undoing it brings back,
and a confirmed button that calls the same core function as `vitrine undo`."""

from __future__ import annotations

import streamlit as st

from core.catalog.journal import last_entry, undo
from core.lab import Lab
from ui.state import user_errors


def undo_panel(lab: Lab, key: str, forget: tuple[str, ...] = ()) -> None:
    """Offer to undo the last action; after an undo, drop session state starting with `forget` (drafts of what
    was undone) and show what came back."""
    if lines := st.session_state.pop(f"{key}_undone", None):
        st.success("Undone. What came back:")
        st.text("\n".join(lines))
    entry = last_entry(lab.store)
    if entry is None:
        return
    with st.expander("Undo the last change"):
        st.text(entry.confirmation())
        sure = st.checkbox("Bring that back (changes made since are kept)", key=f"{key}_undo_confirm")
        if st.button("Undo", key=f"{key}_undo", disabled=not sure):
            with user_errors():
                report = undo(lab.store)
                for name in [k for k in st.session_state if str(k).startswith((f"{key}_undo_confirm", *forget))]:
                    del st.session_state[name]
                st.session_state[f"{key}_undone"] = report.lines()
                st.rerun()
