"""Vitrine: a Streamlit skin over core/. Pages live in pages/; navigation is declared here."""

from pathlib import Path

import streamlit as st

from core.config import force_offline
from ui.auth import account_panel, gate

FAVICON = Path(__file__).resolve().parent / "ui" / "assets" / "favicon.png"  # served locally: no font host

force_offline()

st.set_page_config(page_title="Vitrine", page_icon=str(FAVICON), layout="wide")
gate()  # with sign-in configured, a visitor who is not signed in sees only the sign-in page

PAGES = {
    "Workspace": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/catalog.py", title="Catalog", icon=":material/inventory_2:"),
        st.Page("pages/item.py", title="Item detail", icon=":material/info:"),
        st.Page("pages/search.py", title="Search", icon=":material/search:"),
        st.Page("pages/activity.py", title="Activity", icon=":material/history:"),
    ],
    "Descriptions": [
        st.Page("pages/prompt_lab.py", title="Prompt Lab", icon=":material/science:"),
        st.Page("pages/qa.py", title="Description QA", icon=":material/fact_check:"),
    ],
    "Explore": [
        st.Page("pages/map.py", title="Semantic Map", icon=":material/scatter_plot:"),
        st.Page("pages/shopper.py", title="Shopper Simulator", icon=":material/shopping_cart:"),
        st.Page("pages/cold_start.py", title="Cold-start Preview", icon=":material/new_releases:"),
        st.Page("pages/evaluation.py", title="Evaluation", icon=":material/monitoring:"),
        st.Page("pages/map_diff.py", title="Map diff", icon=":material/compare_arrows:"),
        st.Page("pages/frontier.py", title="Cost–quality frontier", icon=":material/paid:"),
    ],
}

account_panel()
st.navigation(PAGES).run()
