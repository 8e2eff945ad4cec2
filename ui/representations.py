"""Choosing a representation: every option says how much of the catalogue it covers, and a partial or stale choice
says what it ranks over and offers what completes it (Sync, or Prompt Lab → Promote for a run that is not active)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.lab import Lab
from core.represent.coverage import list_representations
from core.represent.recommend import Pool
from core.services.sync import SyncPlan, plan_sync, sync
from ui.state import user_errors
from ui.text import plain

SYNC_REPORT = "sync_report"  # session key: the last sync's coverage lines, shown once on the rerun it causes


def representation_facts(lab: Lab) -> pd.DataFrame:
    """Every representation with its coverage, read once per rerun (not once per option) and indexed by name."""
    return list_representations(lab).set_index("name", drop=False)


def with_coverage(reps: pd.DataFrame) -> Callable[[str], str]:
    """The format_func of every representation picker: 'title · 184 of 209 items (3 stale)'."""
    labels = reps["label"].to_dict()
    return lambda name: f"{name} · {labels[name]}"


def pool_notice(lab: Lab, reps: pd.DataFrame, name: str, key: str, *, verb: str = "ranks",
                outcome: str = "results can only come from those") -> None:
    """Under a chosen representation that lacks items or holds stale vectors: what it `verb`s over and what that
    means for the page, then the action that completes it."""
    _last_sync()
    fact = reps.loc[name]
    if fact["complete"]:
        return
    if fact["missing"]:
        st.warning(plain(f"{name} {verb} {fact['count']:,} of {fact['catalogue']:,} items: {outcome}."))
    if fact["stale"]:
        st.warning(plain(f"{name} holds {fact['stale']:,} stale vector(s): their item's title, image or description "
                         "changed after they were embedded."))
    with user_errors():  # an active provider that cannot run now is said here, and the page goes on
        plan = plan_sync(lab)
        if fact["kind"] != "description" or name == plan.run:  # what sync rebuilds: local baselines, active run
            sync_form(lab, key, plan)
        else:
            st.info("This description run is not the active one, so Sync does not complete it: Prompt Lab → "
                    "Promote describes the rest of the catalogue under it, then makes it active.")
            st.page_link("pages/prompt_lab.py", label="Open the Prompt Lab", icon=":material/science:")


def sync_form(lab: Lab, key: str, plan: SyncPlan | None = None, label: str = "Sync") -> None:
    """The estimate, consent when items would go to a hosted (possibly paid) provider, and the button that brings
    title, visual and the active run to full, fresh coverage."""
    _last_sync()
    plan = plan or plan_sync(lab)
    st.text(plan.estimate())
    needs_consent = plan.hosted and bool(plan.to_describe)
    consent = needs_consent and st.checkbox(plain(f"Send {len(plan.to_describe):,} item(s) to {plan.provider} (a "
                                                  "hosted, possibly paid, provider)"), key=f"{key}_consent")
    if st.button(plain(label), key=key, disabled=needs_consent and not consent):
        bar = st.progress(0.0, text="syncing")
        report = sync(lab, allow_hosted=consent,
                      progress=lambda done, total, _: bar.progress(done / max(total, 1), text=f"{done}/{total}"))
        st.session_state[SYNC_REPORT] = report.lines()
        st.rerun()


def ranking_notes(pool: Pool) -> None:
    """Under a ranked list: a clamped k and history items that did not count (coverage is pool_notice's)."""
    for note in (pool.k_note(), pool.history_note()):
        if note:
            st.caption(plain(note))


def _last_sync() -> None:
    if lines := st.session_state.pop(SYNC_REPORT, None):
        st.success("Synced.")
        st.text("\n".join(lines))
