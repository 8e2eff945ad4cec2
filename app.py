"""Vitrine: a Streamlit skin over core/. Pages live in pages/; navigation is declared here."""

import os

import streamlit as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

st.set_page_config(page_title="Vitrine", page_icon="🛍️", layout="wide")

PAGES = {
    "Workspace": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/catalog.py", title="Catalog", icon="🗂️"),
        st.Page("pages/search.py", title="Search", icon="🔎"),
    ],
    "Descriptions": [
        st.Page("pages/prompt_lab.py", title="Prompt Lab", icon="🧪"),
        st.Page("pages/qa.py", title="Description QA", icon="✅"),
    ],
    "Explore": [
        st.Page("pages/map.py", title="Semantic Map", icon="🗺️"),
        st.Page("pages/shopper.py", title="Shopper Simulator", icon="🛒"),
        st.Page("pages/cold_start.py", title="Cold-start Preview", icon="🆕"),
        st.Page("pages/evaluation.py", title="Evaluation", icon="📊"),
    ],
}

st.navigation(PAGES).run()
