"""Search: free-text queries against a description (or title) representation, ranked by cosine."""

import pandas as pd
import streamlit as st

from core.represent.recommend import MAX_QUERY_CHARS, default_representation, search
from ui.links import item_footer
from ui.representations import pool_notice, ranking_notes, representation_facts, with_coverage
from ui.state import get_lab, user_errors
from ui.text import safe_frame
from ui.widgets import thumb_grid

st.title("Search")
st.caption("Your words are embedded with the same text encoder as the item descriptions and ranked by cosine "
           "similarity, so a query can name a style, material or occasion as well as a product.")
lab = get_lab()

with user_errors():
    reps = representation_facts(lab)
    names = reps.loc[reps["kind"].isin(["description", "title"]), "name"].tolist()
    if not names:
        st.info("No text representation yet: add items and describe them on the Catalog page.")
        st.stop()
    default = default_representation(lab)
    left, right = st.columns([3, 1])
    representation = left.selectbox("Representation", names, index=names.index(default) if default in names else 0,
                                    format_func=with_coverage(reps), key="search_rep")
    k = right.slider("Results", 1, 50, 12)
    pool_notice(lab, reps, representation, "search_sync")
    query = st.text_input("Query", placeholder="e.g. minimalist linen for summer weekends", max_chars=MAX_QUERY_CHARS)
    if query.strip():
        ranking = search(lab, query, k, representation)
        results = pd.DataFrame([r.as_dict() for r in ranking])
        if results.empty:
            st.info("This representation holds no vectors yet.")
        else:
            thumb_grid(lab, results, caption=lambda r: f"{r['sku']} · {r['title']} · {r['score']:.3f}", limit=k,
                       footer=item_footer)
            st.dataframe(safe_frame(results[["sku", "title", "category", "score"]]), hide_index=True, width="stretch",
                         column_config={"score": st.column_config.NumberColumn(format="%.3f")})
            ranking_notes(ranking.pool)
    else:
        st.caption("Type a query to search the catalogue.")
