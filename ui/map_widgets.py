"""Streamlit side of the semantic map (the figures themselves are built in core.represent.map_figure)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.represent.map_figure import colour_label, map_figure

__all__ = ["colour_label", "map_figure", "selected_skus", "show_map"]


def selected_skus(event: object) -> list[str]:
    """SKUs of the points a click, box or lasso selection caught (placed stars carry no SKU), in selection order."""
    points = (getattr(event, "selection", None) or {}).get("points", [])
    skus = [p["customdata"][0] for p in points if p.get("customdata")]
    return list(dict.fromkeys(s for s in skus if s))


def show_map(fig: go.Figure, key: str) -> list[str]:
    """Render a map where a click, box or lasso selects items; returns the selected SKUs."""
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode=("points", "box", "lasso"),
                            width="stretch")
    return selected_skus(event)
