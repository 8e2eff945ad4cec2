"""Search: free-text queries against a description (or title) representation, ranked by cosine."""

import pandas as pd
import streamlit as st

from core.represent.recommend import default_representation, search
from ui.state import get_lab, user_errors
from ui.widgets import thumb_grid

st.title("Search")
st.caption("Your words are embedded with the same text encoder as the item descriptions and ranked by cosine "
           "similarity, so a query can name a style, material or occasion as well as a product.")
lab = get_lab()

reps = lab.store.representations()
names = reps.loc[reps["kind"].isin(["description", "title"]), "name"].tolist()
if not names:
    st.info("No text representation yet: add items and describe them on the Catalog page.")
    st.stop()

with user_errors():
    default = default_representation(lab)
    left, right = st.columns([3, 1])
    representation = left.selectbox("Representation", names,
                                     index=names.index(default) if default in names else 0)
    k = right.slider("Results", 1, 50, 12)
    query = st.text_input("Query", placeholder="e.g. minimalist linen for summer weekends")
    if query.strip():
        results = pd.DataFrame([r.as_dict() for r in search(lab, query, k, representation)])
        if results.empty:
            st.info("This representation holds no vectors yet.")
        else:
            thumb_grid(lab, results, caption=lambda r: f"{r['sku']} · {r['title']} · {r['score']:.3f}", limit=k)
            st.dataframe(results[["sku", "title", "category", "score"]], hide_index=True, width="stretch",
                         column_config={"score": st.column_config.NumberColumn(format="%.3f")})
    else:
        st.caption("Type a query to search the catalogue.")
