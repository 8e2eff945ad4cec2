"""Plotly figures for the semantic map, shared by the Map, Shopper and Cold-start pages.

Every string shown in a figure (titles, facet values written by a model) is HTML-escaped: plotly renders a subset of
HTML in legends and hover labels, and model output must stay plain text.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.represent.maps import NONE, PROMPT_VERSION

MAX_LEVELS = 12  # legend entries before the rarest values are merged into "other"
HOVER = "%{customdata[0]}<br>%{customdata[1]}<extra>%{customdata[2]}</extra>"
HIGHLIGHT_STYLES = {  # group name -> marker symbol, size and outline colour
    "history": ("diamond", 15, "#111111"),
    "recommended": ("circle", 15, "#d62728"),
    "neighbours": ("circle", 15, "#d62728"),
    "highlighted": ("circle", 20, "#111111"),
}


def colour_label(column: str) -> str:
    return "prompt version" if column == PROMPT_VERSION else column.replace("_", " ")


def map_figure(points: pd.DataFrame, colour_by: str, *, highlight: dict[str, list[str]] | None = None,
               extra: pd.DataFrame | None = None, title: str = "", height: int = 520) -> go.Figure:
    """Items coloured by a column; highlighted SKUs drawn larger on top; extra points (label, x, y) as stars."""
    fig = go.Figure()
    values = _levels(points[colour_by].astype(str))
    for value in sorted(values.unique(), key=lambda v: (v in (NONE, "other"), v)):
        part = points[values == value]
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=_plain(value), marker={"size": 9, "opacity": 0.8},
            customdata=_customdata(part, value), hovertemplate=HOVER,
        ))
    for group, skus in (highlight or {}).items():
        part = points[points["sku"].isin(skus)]
        symbol, size, colour = HIGHLIGHT_STYLES.get(group, ("circle", 15, "#111111"))
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=_plain(group),
            marker={"size": size, "symbol": symbol, "color": "rgba(0,0,0,0)", "line": {"width": 2.5, "color": colour}},
            customdata=_customdata(part, group), hovertemplate=HOVER,
        ))
    if extra is not None and not extra.empty:
        fig.add_trace(go.Scatter(
            x=extra["x"], y=extra["y"], mode="markers+text", name=_plain(", ".join(extra["label"])),
            text=[_plain(t) for t in extra["label"]],
            textposition="top center", marker={"size": 20, "symbol": "star", "color": "#ffbf00",
                                               "line": {"width": 1.5, "color": "#111111"}},
            customdata=[["", _plain(t), "placed"] for t in extra["label"]], hovertemplate=HOVER,
        ))
    fig.update_layout(title=_plain(title), height=height, dragmode="lasso", legend_title_text=colour_label(colour_by),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.02},
                      margin={"l": 10, "r": 10, "t": 40 if title else 30, "b": 10})
    fig.update_xaxes(showticklabels=False, title=None)
    fig.update_yaxes(showticklabels=False, title=None)
    return fig


def selected_skus(event: object) -> list[str]:
    """SKUs of the points a box/lasso selection caught (placed stars carry no SKU), in selection order."""
    points = (getattr(event, "selection", None) or {}).get("points", [])
    skus = [p["customdata"][0] for p in points if p.get("customdata")]
    return list(dict.fromkeys(s for s in skus if s))


def show_map(fig: go.Figure, key: str) -> list[str]:
    """Render a map with box/lasso selection; returns the selected SKUs."""
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode=("box", "lasso"), width="stretch")
    return selected_skus(event)


def _levels(values: pd.Series) -> pd.Series:
    """Keep the most frequent values as legend entries and merge the rest, so the legend stays readable."""
    counts = values.value_counts()
    if len(counts) <= MAX_LEVELS:
        return values
    keep = set(counts.index[:MAX_LEVELS - 1])
    return values.where(values.isin(keep), "other")


def _customdata(part: pd.DataFrame, group: str) -> list[list[str]]:
    return [[sku, _plain(t), _plain(group)] for sku, t in zip(part["sku"], part["title"], strict=True)]


def _plain(text: object) -> str:
    return html.escape(str(text), quote=False)
