"""The Prompt Lab's reviewer-agreement panel: win rate per reviewer and overall, kappa with n, and the verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.lab import Lab
from core.services.agreement import agreement
from core.services.votes import WinRate
from ui.state import user_errors
from ui.text import plain, safe_frame


def _row(name: str, rate: WinRate) -> dict:
    interval = "—" if rate.rate_b is None else f"{rate.ci_low:.0%}–{rate.ci_high:.0%}"
    return {"reviewer": name, "B win rate": "—" if rate.rate_b is None else f"{rate.rate_b:.0%}",
            "95% CI (Wilson)": interval, "B": rate.wins_b, "A": rate.wins_a, "ties": rate.ties, "votes": rate.n}


def render_agreement(lab: Lab, comparison: str) -> None:
    """Who voted how often for which side, and whether they agree enough for the win rate to mean anything."""
    with user_errors():
        result = agreement(lab, comparison)
        if not result.reviewers:
            return
        st.markdown("**Reviewer agreement**")
        rows = [_row(name, rate) for name, rate in result.reviewers.items()]
        rows.append(_row("overall (one verdict per item: the reviewers' majority)", result.overall))
        st.dataframe(safe_frame(pd.DataFrame(rows)), hide_index=True, width="stretch")
        kappa = "—" if result.kappa is None else f"{result.kappa:.2f}"
        st.caption(plain(f"{result.method or 'kappa'}: {kappa} · n = {result.shared} item(s) voted on by every "
                         "reviewer"))
        (st.warning if result.low or len(result.reviewers) < 2 else st.info)(plain(result.verdict))
