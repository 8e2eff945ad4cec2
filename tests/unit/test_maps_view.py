"""Map readability: one colour per value on every map, per-value legends, search highlight, thumbnail sampling and
the standalone HTML download."""

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.represent.map_figure import WEBGL_ABOVE, map_figure, map_html
from core.represent.map_view import MAX_LEVELS, groups, legend, matches, spread
from core.represent.maps import project
from core.represent.palette import FIXED, NONE, OTHER, PALETTE, colours


def frame(rows: list[tuple[str, tuple[str, ...]]]) -> pd.DataFrame:
    return pd.DataFrame([{"sku": s, "x": float(i), "y": float(i % 3), "title": f"t{s}", "material": m}
                         for i, (s, m) in enumerate(rows)])


def test_a_value_keeps_its_colour_whatever_else_is_on_the_map():
    few = colours(["linen", "denim"])
    assert colours(["denim", "linen"]) == few  # order does not matter
    assert len(set(colours([f"v{i}" for i in range(len(PALETTE))]).values())) == len(PALETTE)  # no clash up to 24
    # a value's colour is its hash's slot unless a value sorting before it took that slot
    alone = {v: colours([v])[v] for v in ("linen", "denim", "wool", "silk")}
    together = colours(alone)
    assert sum(together[v] == alone[v] for v in alone) >= 3
    assert colours([NONE, OTHER, "wool"])[NONE] == FIXED[NONE] and colours([OTHER])[OTHER] == FIXED[OTHER]
    assert FIXED[NONE] not in PALETTE and FIXED[OTHER] not in PALETTE


def test_an_item_with_several_values_is_drawn_under_each():
    points = frame([("A", ("linen", "cotton")), ("B", ("linen",)), ("C", ())])
    key = legend([points], "material")
    assert key.values == ["linen", "cotton", NONE]  # most frequent first, no value last
    fig = map_figure(points, "material")
    drawn = {t.name: [d[0] for d in t.customdata] for t in fig.data}
    assert drawn == {"linen": ["A", "B"], "cotton": ["A"], NONE: ["C"]}
    assert [t.marker.color for t in fig.data] == [key.colours[v] for v in ("linen", "cotton", NONE)]


def test_side_by_side_maps_share_one_legend_and_its_colours():
    left = frame([("A", ("linen",)), ("B", ("wool",))])
    right = frame([("A", ("silk",)), ("B", ("wool",))])
    key = legend([left, right], "material")
    colour = {t.name: t.marker.color for f in (left, right) for t in map_figure(f, "material", key=key).data}
    assert colour == key.colours and len(set(colour.values())) == 3
    solo = {t.name: t.marker.color for t in map_figure(right, "material").data}
    assert solo["wool"] == colour["wool"] or solo["silk"] == colour["silk"]  # hash slots, not plotly's cycle


def test_rare_values_merge_into_other_so_the_legend_stays_readable():
    rows = [(f"S{i}", (f"v{i % 20}",)) for i in range(200)] + [("Z", ())]
    points = frame(rows)
    key = legend([points], "material")
    assert len(key.values) == MAX_LEVELS + 1 and key.values[-2:] == [NONE, OTHER]
    drawn = groups(points, key)
    assert (drawn == OTHER).sum() == 200 - 10 * (MAX_LEVELS - 1)
    assert len(drawn) == len(points)


def test_search_matches_sku_title_and_description_text(described_lab):
    lab, rep = described_lab
    points = project(lab, rep).points

    def found(query):
        return sorted(points.loc[matches(lab, points, query), "sku"])

    assert found("tote") == ["B1", "B2"]
    assert found("RED tote") == ["B2"]  # every word, any case
    assert found("b2") == ["B2"]
    assert found("apparel") == ["A1", "A2", "A3"]  # only in the description text ('<title> <category> for ...')
    assert found("  ") == [] and found("nothing-like-this") == []


def test_search_dims_the_rest_and_rings_the_matches():
    points = frame([("A", ("linen",)), ("B", ("linen",)), ("C", ("wool",))])
    fig = map_figure(points, "material", dim_except=["B"], highlight={"search matches": ["B"]})
    linen = next(t for t in fig.data if t.name == "linen")
    assert list(linen.marker.opacity) == [0.12, 0.9]
    ring = next(t for t in fig.data if t.name == "search matches")
    assert [d[0] for d in ring.customdata] == ["B"]
    assert map_figure(points, "material").data[0].marker.opacity == 0.8


def test_large_maps_are_drawn_with_webgl():
    small = frame([(f"S{i}", ("a",)) for i in range(10)])
    big = frame([(f"S{i}", ("a",)) for i in range(WEBGL_ABOVE + 1)])
    assert isinstance(map_figure(small, "material").data[0], go.Scatter)
    assert isinstance(map_figure(big, "material").data[0], go.Scattergl)


def test_thumbnail_sample_covers_sparse_regions_not_only_dense_ones():
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal(0, 0.1, (5000, 2)), rng.normal(10, 1, (20, 2))])
    picked = spread(xy, 50)
    assert len(picked) == 50 == len(set(picked))
    assert (picked >= 5000).sum() >= 5  # a random sample would pick 0.2 of the sparse group on average
    np.testing.assert_array_equal(spread(xy, 50), picked)
    np.testing.assert_array_equal(spread(xy[:30], 50), np.arange(30))
    assert len(spread(np.zeros((100, 2)), 10)) == 1  # one position: one thumbnail


def test_model_and_catalogue_text_in_hover_labels_is_escaped():
    points = pd.DataFrame([{"sku": "<i>A1", "x": 0.0, "y": 0.0, "title": "<b>Shirt</b>", "material": ("<s>%{x}",)}])
    [trace] = map_figure(points, "material").data
    sku, title, shown = trace.customdata[0]
    assert sku == "<i>A1"  # the raw SKU, only for selections
    assert (title, shown) == ("&lt;b&gt;Shirt&lt;/b&gt;", "&lt;i&gt;A1")
    assert "customdata[0]" not in trace.hovertemplate
    assert trace.hovertemplate.endswith("<extra>&lt;s&gt;&#37;{x}</extra>")  # a value is not a template either


def test_map_downloads_as_one_offline_html_file_with_thumbnails_and_escaped_text(described_lab):
    lab, rep = described_lab
    lab.store.upsert_items([{**lab.store.items().query("sku == 'A1'").iloc[0].to_dict(),
                             "title": "</script><script>alert(1)</script>"}])
    page = map_html(lab, rep, "style", query="tote")
    assert "<script>alert(1)" not in page and "</script><script>alert" not in page
    assert not re.findall(r"<script[^>]*\bsrc=", page) and len(page) > 1_000_000  # plotly.js embedded: offline
    assert page.count("data:image\\u002fjpeg;base64,") >= 6  # each item's thumbnail; plotly's JSON escapes '/'
    assert "plotly_hover" in page and "search matches" in page


def test_vitrine_map_writes_the_html_file(described_lab, tmp_path, capsys):
    from core.cli.main import main

    lab, rep = described_lab
    out = tmp_path / "map.html"
    args = ["map", "--html", str(out), "--representation", rep, "--workspace", str(lab.workspace.root)]
    assert main([*args, "--colour-by", "style", "--search", "tote"]) == 0
    assert "search matches" in out.read_text(encoding="utf-8") and "written to" in capsys.readouterr().out
    assert main([*args, "--colour-by", "material"]) != 0  # no item has a material: named, not drawn grey
    assert "choose one of: category, style" in capsys.readouterr().err


def test_large_map_payload_is_float32_coordinates_and_two_labels_per_point():
    big = frame([(f"S{i}", ("a",)) for i in range(WEBGL_ABOVE + 1)])
    [trace] = map_figure(big, "material").data
    assert trace.x.dtype == np.float32 and trace.y.dtype == np.float32
    assert trace.customdata.shape == (WEBGL_ABOVE + 1, 2)  # SKU and title: the SKUs need no escaping
    assert "customdata[0]" in trace.hovertemplate and "customdata[2]" not in trace.hovertemplate


def test_hover_thumbnail_table_keeps_a_hostile_sku_inside_its_script(described_lab):
    import json

    from core.represent.recommend import load_matrix

    lab, rep = described_lab
    a1 = lab.store.items().query("sku == 'A1'").iloc[0].to_dict()
    sku = "</script><script>alert(1)</script>{plot_id}"
    lab.store.upsert_items([{**a1, "sku": sku}])
    m = load_matrix(lab, rep)
    lab.store.upsert_vectors(lab.store.representation(rep)["table"], m.vectors.shape[1], [sku],
                             [a1["image_sha256"]], ["t"], m.vectors[[m.index["A1"]]] + 0.01)
    page = map_html(lab, rep)
    assert "<script>alert(1)" not in page and "</script><script>alert" not in page
    table = page[page.index("var thumbs = ") + len("var thumbs = "):]
    thumbs = json.loads(table[:table.index(";\n")])
    assert thumbs[sku].startswith("data:image/jpeg;base64,") and thumbs["A1"] == thumbs[sku]
