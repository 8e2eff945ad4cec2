import json

import pandas as pd
from streamlit.elements.plotly_chart import PlotlySelectionState, PlotlyState

from core.represent.representations import build_title
from tests.app.conftest import open_page
from tests.app.partial import add_unsynced_item, names
from ui.map_widgets import map_figure, selected_skus
from ui.text import plain

PAGE = "pages/map.py"
TIMEOUT = 120  # the first UMAP fit in a fresh process compiles numba kernels


def chart_specs(at):
    """The plotly figures the page sent to the browser."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def hover_skus(spec):
    return {d[0] for trace in spec["data"] for d in trace.get("customdata", [])}


def test_map_renders_every_item_coloured_by_category(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    assert not at.exception
    assert at.selectbox(key="map_rep").value == "preference@v1/fake/fake-1"
    assert "preference@v1/fake/fake-1 · 6 of 6 items" in at.selectbox(key="map_rep").options
    assert not at.warning
    [spec] = chart_specs(at)
    assert hover_skus(spec) == {"A1", "A2", "A3", "B1", "B2", "H1"}
    assert {t["name"] for t in spec["data"]} == {"apparel", "bags", "home"}
    assert "Box- or lasso-select" in at.caption[-1].value

    at.selectbox(key="map_colour").set_value("prompt_version").run()
    [spec] = chart_specs(at)
    assert {t["name"] for t in spec["data"]} == {"appearance@v1, preference@v1"}


def test_side_by_side_highlights_the_same_item_in_both_maps(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    at.toggle(key="map_side").set_value(True).run()
    at.selectbox(key="map_rep_b").set_value("title").run()
    at.selectbox(key="map_focus").set_value("B2").run()
    assert not at.exception
    left, right = chart_specs(at)
    assert right["layout"]["title"]["text"] == "title"
    for spec in (left, right):
        [selected] = [t for t in spec["data"] if t["name"] == "highlighted"]
        assert [d[0] for d in selected["customdata"]] == ["B2"]
        assert selected["marker"]["size"] > 9


def test_partial_representations_say_which_items_their_maps_leave_out(app_lab, tmp_path):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    rep = at.selectbox(key="map_rep").value
    assert f"{rep} · 6 of 7 items" in at.selectbox(key="map_rep").options
    assert [w.value for w in at.warning] == [plain(f"{rep} maps 6 of 7 items: the others are not on this map.")]
    assert at.button(key="map_sync_a")  # the active run: Sync completes it
    at.toggle(key="map_side").set_value(True).run()
    assert names(at.selectbox(key="map_rep_b").options) == [n for n in names(at.selectbox(key="map_rep").options)
                                                            if n != rep]
    at.selectbox(key="map_rep_b").set_value("title").run()
    assert not at.exception
    assert plain("title maps 6 of 7 items: the others are not on this map.") in [w.value for w in at.warning]
    assert at.button(key="map_sync_b")  # title is a local baseline: Sync completes it


def test_following_an_item_the_second_map_lacks_says_so(app_lab, tmp_path):
    sku = add_unsynced_item(app_lab, tmp_path / "new")
    build_title(app_lab)  # title covers all 7, the description run 6
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    at.selectbox(key="map_rep").set_value("title")
    at.toggle(key="map_side").set_value(True).run()
    at.selectbox(key="map_rep_b").set_value("preference@v1/fake/fake-1")
    at.selectbox(key="map_focus").set_value(sku).run()
    assert not at.exception
    assert plain(f"{sku} has no vector in preference@v1/fake/fake-1, so it is not on that map.") in \
        [c.value for c in at.caption]


def test_selection_event_gives_the_skus_of_selected_items():
    points = [{"customdata": ["A1", "Red Linen Shirt", "apparel"]},
              {"customdata": ["", "new", "placed"]},  # a placed star carries no SKU
              {"customdata": ["A1", "Red Linen Shirt", "highlighted"]},
              {"customdata": ["B2", "Red Leather Tote", "bags"]}]
    event = PlotlyState(selection=PlotlySelectionState(points=points, point_indices=[], box=[], lasso=[]))
    assert selected_skus(event) == ["A1", "B2"]
    assert selected_skus(None) == []


def test_model_text_in_the_figure_is_escaped():
    points = pd.DataFrame([{"sku": "A1", "x": 0.0, "y": 0.0, "title": "<b>Shirt</b>", "category": "apparel",
                            "style": "<a href='javascript:alert(1)'>x</a>"}])
    fig = map_figure(points, "style")
    assert fig.data[0].name.startswith("&lt;a href")
    assert fig.data[0].customdata[0][1] == "&lt;b&gt;Shirt&lt;/b&gt;"


def test_map_on_an_empty_workspace_explains_what_to_do(lab):
    at = open_page(lab, PAGE)
    assert not at.exception
    assert "No representation holds 4 or more items" in at.info[0].value
