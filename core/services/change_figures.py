"""Plotly figures for "what a prompt change does": the map diff's moved items and the cost–quality frontier.

Every string shown in a figure is HTML-escaped (plotly renders a subset of HTML in hover labels and legends; SKUs,
titles and prompt names come from outside). Each point's customdata[0] is its raw key (SKU or run) for selections.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from core.services.frontier import Frontier
from core.services.map_diff import MapDiff

GREY = "#b0b0b0"
FRONTIER = "#1f77b4"
QUALITY = {"recall": ("Recall@10 (higher is better)", "%{y:.3f}"),
           "flag_rate": ("QA flag rate (lower is better)", "%{y:.1%}")}


def _plain(text: object) -> str:
    return html.escape(str(text), quote=False)


def moved_figure(diff: MapDiff) -> go.Figure:
    """Each compared item: its neighbourhood overlap across, its own two vectors' cosine up (its category when the
    runs are not one vector space); low and left moved most. A click selects the item."""
    items = diff.items
    space = items["self_cosine"].notna().all()
    fig = go.Figure()
    for category, part in items.groupby("category", sort=True):
        fig.add_trace(go.Scatter(
            x=part["overlap"], y=part["self_cosine"] if space else part["category"].map(_plain), mode="markers",
            name=_plain(category), marker={"size": 9, "opacity": 0.75},
            customdata=[[s, _plain(s), _plain(t), _plain(c)] for s, t, c in
                        zip(part["sku"], part["title"], part["category"], strict=True)],
            hovertemplate="%{customdata[1]} · %{customdata[2]}<br>overlap %{x:.2f}"
                          + ("<br>own cosine %{y:.3f}" if space else "") + "<extra>%{customdata[3]}</extra>"))
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10}, dragmode="select",
                      xaxis_title=f"top-{diff.k} neighbour overlap (Jaccard; 1 = same neighbours)",
                      yaxis_title="cosine of the item's own two vectors" if space else "category",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15})
    return fig


def frontier_figure(f: Frontier, quality: str) -> go.Figure:
    """Runs measured on both axes: cost across, quality up; the frontier in colour joined by a line, dominated runs
    grey. Recall carries its 95% interval."""
    title, fmt = QUALITY[quality]
    flag = "recall_dominated" if quality == "recall" else "flags_dominated"
    cost = "cost_per_1k"
    placed = f.runs[f.runs[cost].notna() & f.runs[quality].notna()]
    fig = go.Figure()
    for is_dominated, colour, name in ((True, GREY, "dominated"), (False, FRONTIER, "on the frontier")):
        part = placed[placed[flag] == is_dominated]
        error = None
        if quality == "recall" and not part.empty:
            error = {"type": "data", "symmetric": False, "array": part["recall_hi"] - part["recall"],
                     "arrayminus": part["recall"] - part["recall_lo"], "color": colour}
        fig.add_trace(go.Scatter(
            x=part[cost], y=part[quality], mode="markers+text", name=name, error_y=error,
            text=[_plain(r) for r in part["run"]], textposition="top center", textfont={"size": 10, "color": colour},
            marker={"size": 12, "color": colour, "line": {"width": 1, "color": "#333"}},
            customdata=[[r, _plain(r)] for r in part["run"]],
            hovertemplate=f"%{{customdata[1]}}<br>$%{{x:.4f}} per 1,000 SKUs<br>{fmt}<extra></extra>"))
    line = placed[~placed[flag].astype(bool)].sort_values(cost)  # placed runs all have True or False
    fig.add_trace(go.Scatter(x=line[cost], y=line[quality], mode="lines", line={"color": FRONTIER, "dash": "dot",
                                                                                 "shape": "hv"},
                             hoverinfo="skip", showlegend=False))
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=f"$ per 1,000 SKUs ({f.price} price)", yaxis_title=title,
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15})
    return fig
