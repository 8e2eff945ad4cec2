"""Vitrine: a Streamlit skin over core/. Pages live in pages/; navigation is declared here."""

from pathlib import Path

import streamlit as st

from core.config import force_offline

FAVICON = Path(__file__).resolve().parent / "ui" / "assets" / "favicon.png"  # served locally: no font host

force_offline()

st.set_page_config(page_title="Vitrine", page_icon=str(FAVICON), layout="wide")

PAGES = {
    "Workspace": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/catalog.py", title="Catalog", icon=":material/inventory_2:"),
        st.Page("pages/search.py", title="Search", icon=":material/search:"),
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
    ],
}

st.navigation(PAGES).run()
