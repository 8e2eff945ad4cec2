"""Plotly figures of a semantic map, and the map as a standalone HTML file, shared by the pages and the CLI.

Every string shown in a figure (titles, SKUs, facet values written by a model) is HTML-escaped: plotly renders a
subset of HTML in legends and hover labels, and model output must stay plain text. Large maps are drawn with WebGL.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Collection

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from core.lab import Lab
from core.represent.map_view import Legend, groups, legend, matches, spread
from core.represent.maps import PROMPT_VERSION, project

WEBGL_ABOVE = 3_000  # points beyond which a map is drawn with WebGL: SVG slows down past a few thousand markers
HTML_THUMBS = 1_500  # thumbnails embedded in a downloaded map, spread over it (about 2 kB each)
THUMB_SIDE = 64  # pixels, the longer side of an embedded thumbnail
DIMMED = 0.12  # opacity of the items a search did not match
HOVER = "%{{customdata[1]}}<br>%{{customdata[{sku}]}}<extra>{group}</extra>"  # the group is escaped, has no '%'
HIGHLIGHT_STYLES = {  # group name -> marker symbol, size and outline colour
    "history": ("diamond", 15, "#111111"),
    "recommended": ("circle", 15, "#d62728"),
    "neighbours": ("circle", 15, "#d62728"),
    "highlighted": ("circle", 20, "#111111"),
    "search matches": ("circle", 13, "#111111"),
}
HOVER_THUMBNAIL = """
var thumbs = %s;
var gd = document.getElementById('{plot_id}');
var img = document.createElement('img');
img.style.cssText = 'position:fixed;top:8px;right:8px;width:128px;border:1px solid #888;background:#fff;'
    + 'display:none;z-index:10';
document.body.appendChild(img);
gd.on('plotly_hover', function (e) {
  var uri = thumbs[(e.points[0].customdata || [])[0]] || '';
  if (uri.indexOf('data:image/jpeg;base64,') === 0) { img.src = uri; img.style.display = 'block'; }
  else { img.style.display = 'none'; }
});
gd.on('plotly_unhover', function () { img.style.display = 'none'; });
"""


def colour_label(column: str) -> str:
    return "prompt version" if column == PROMPT_VERSION else column.replace("_", " ")


def map_figure(points: pd.DataFrame, colour_by: str, *, key: Legend | None = None,
               highlight: dict[str, list[str]] | None = None, dim_except: Collection[str] | None = None,
               extra: pd.DataFrame | None = None, title: str = "", height: int = 520) -> go.Figure:
    """Items coloured by each value of a column (an item with two values is drawn under both; `key` shares one
    legend between maps); highlighted SKUs drawn larger on top; with dim_except, every other item faded; extra
    points (label, x, y) as stars. Coordinates go as float32 and each point carries only its SKU and title (and
    its escaped SKU where escaping changes it): 100k points are megabytes the browser has to parse."""
    traces: list[dict] = []
    points = points.reset_index(drop=True)
    key = key or legend([points], colour_by)
    scatter = "scattergl" if len(points) > WEBGL_ABOVE else "scatter"
    drawn = groups(points, key)
    kept = None if dim_except is None else points["sku"].isin(set(dim_except))
    for value in key.values:
        rows = drawn.index[drawn.to_numpy() == value]
        if not len(rows):
            continue
        part = points.loc[rows]
        opacity = 0.8 if kept is None else np.where(kept.loc[rows], 0.9, DIMMED)
        traces.append(dict(
            type=scatter, **_xy(part), mode="markers", name=_plain(value),
            marker={"size": 9 if scatter == "scatter" else 6, "opacity": opacity, "color": key.colours[value]},
            **_labels(part, value),
        ))
    for group, skus in (highlight or {}).items():
        part = points[points["sku"].isin(skus)]
        symbol, size, colour = HIGHLIGHT_STYLES.get(group, ("circle", 15, "#111111"))
        traces.append(dict(
            type=scatter, **_xy(part), mode="markers", name=_plain(group),
            marker={"size": size, "symbol": symbol, "color": "rgba(0,0,0,0)", "line": {"width": 2.5, "color": colour}},
            **_labels(part, group),
        ))
    if extra is not None and not extra.empty:
        traces.append(dict(
            type="scatter", x=extra["x"], y=extra["y"], mode="markers+text", name=_plain(", ".join(extra["label"])),
            text=[_plain(t) for t in extra["label"]],
            textposition="top center", marker={"size": 20, "symbol": "star", "color": "#ffbf00",
                                               "line": {"width": 1.5, "color": "#111111"}},
            customdata=[["", _plain(t), ""] for t in extra["label"]], hovertemplate=_hover("placed", 2),
        ))
    fig = go.Figure(data=traces)  # dicts, validated once: add_trace would deep-copy every point array again
    fig.update_layout(title=_plain(title), height=height, dragmode="lasso", legend_title_text=colour_label(colour_by),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.02},
                      margin={"l": 10, "r": 10, "t": 40 if title else 30, "b": 10})
    fig.update_xaxes(showticklabels=False, title=None)
    fig.update_yaxes(showticklabels=False, title=None)
    return fig


def map_html(lab: Lab, representation: str, colour_by: str = "category", query: str = "") -> str:
    """The map as one self-contained HTML file (plotly.js embedded, so it opens offline): the same colours and
    search as the page, and a thumbnail on hover for an evenly spread sample of up to HTML_THUMBS items (kept in
    one SKU -> image table in the page's script, not repeated in every point's data)."""
    points = project(lab, representation).points
    found = points.loc[matches(lab, points, query), "sku"].tolist() if query.strip() else None
    fig = map_figure(points, colour_by, dim_except=found, highlight={"search matches": found} if found else None,
                     title=representation, height=800)
    return fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False},
                       post_script=HOVER_THUMBNAIL % _script_json(thumbnail_uris(lab, points, HTML_THUMBS)))


def thumbnail_uris(lab: Lab, points: pd.DataFrame, limit: int) -> dict[str, str]:
    """SKU -> a small JPEG data URI, for up to `limit` items spread over the map (items without a thumbnail are
    skipped)."""
    out = {}
    for row in points.iloc[spread(points[["x", "y"]].to_numpy(), limit)].itertuples():
        path = lab.images.thumb_path(str(row.image_sha256))
        if path.exists():
            with Image.open(path) as img:
                img.thumbnail((THUMB_SIDE, THUMB_SIDE))
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=70)
            out[str(row.sku)] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    return out


def _xy(part: pd.DataFrame) -> dict[str, np.ndarray]:
    """Coordinates as float32: half the bytes of float64, and finer than any screen."""
    return {"x": part["x"].to_numpy(np.float32), "y": part["y"].to_numpy(np.float32)}


def _labels(part: pd.DataFrame, group: str) -> dict[str, object]:
    """customdata and hover template: per point the raw SKU (for selections) and the escaped title, plus the
    escaped SKU only when escaping changes some SKU of the trace. An object array, not lists of lists (plotly
    validates lists point by point) nor a fixed-width str array (as wide as the longest title, for every point)."""
    sku = part["sku"].astype(str)
    shown = _escaped(sku)
    columns = [sku, _escaped(part["title"])]
    if not shown.equals(sku):
        columns.append(shown)
    data = np.column_stack([c.to_numpy(dtype=object) for c in columns]) if len(part) else np.empty((0, 2), object)
    return {"customdata": data, "hovertemplate": _hover(group, 2 if len(columns) == 3 else 0)}


def _hover(group: str, sku: int) -> str:
    return HOVER.format(group=_plain(group).replace("%", "&#37;"), sku=sku)


def _script_json(value: object) -> str:
    """JSON that is safe inside a <script> element whatever its strings hold: no '<', '>', '&' or '/' (they occur
    only inside strings, where the \\u escapes mean the same), nor a '{plot_id}' for plotly to substitute."""
    text = json.dumps(value)  # ASCII: U+2028 and U+2029 are escaped too
    for char in "<>&/":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text.replace("{plot_id}", "\\u007bplot_id\\u007d")


def _escaped(values: pd.Series) -> pd.Series:
    """html.escape(quote=False) of a whole column at once."""
    return (values.astype(str).str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False))


def _plain(text: object) -> str:
    return html.escape(str(text), quote=False)

