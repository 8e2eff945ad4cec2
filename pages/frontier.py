"""Cost–quality frontier: each run's price per 1,000 SKUs against Recall@10 and QA flag rate, dominated runs greyed."""

import streamlit as st

from core.services.change_figures import frontier_figure
from core.services.frontier import PRICES, evaluation_reports, frontier, frontier_csv
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame

NEWEST = "newest that measured a run"

st.title("Cost–quality frontier")
st.caption("One point per run (prompt version × provider × model). Cost: the mean recorded tokens per description at "
           "today's prices, × 1,000. Recall@10: from one stored evaluation report, so every point shares a split and "
           "a pool. QA flag rate: the share of the run's current descriptions QA's automatic checks flag. A run is "
           "greyed when another costs no more, is no worse, and is better on one of the two.")
lab = get_lab()

with user_errors():
    reports = {r.path.name: r.label() for r in evaluation_reports(lab)}
    left, right = st.columns([3, 1])
    chosen = left.selectbox("Recall@10 from", [NEWEST, *reports], key="fr_report",
                            format_func=lambda name: reports.get(name, name))
    price = right.radio("Price", PRICES, horizontal=True, key="fr_price")
    f = frontier(lab, report=None if chosen == NEWEST else chosen, price=price)
    for note in f.notes():
        st.caption(plain(note))

    recall_col, flags_col = st.columns(2)
    for column, quality, key in ((recall_col, "recall", "fr_recall"), (flags_col, "flag_rate", "fr_flags")):
        column.plotly_chart(frontier_figure(f, quality), key=key, width="stretch")

    st.dataframe(safe_frame(f.table()), hide_index=True, width="stretch")
    st.download_button("Download the runs (CSV)", frontier_csv(f), file_name="frontier.csv", mime="text/csv",
                       key="fr_download")
