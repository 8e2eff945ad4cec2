import base64
import json

import numpy as np
import pandas as pd
from streamlit.elements.plotly_chart import PlotlySelectionState, PlotlyState

from core.represent.representations import build_title
from core.services import qa
from tests.app.conftest import open_page, shown
from tests.app.partial import add_unsynced_item, names
from ui.map_widgets import map_figure, selected_skus
from ui.text import plain

PAGE = "pages/map.py"
TIMEOUT = 120  # the first UMAP fit in a fresh process compiles numba kernels


def chart_specs(at):
    """The plotly figures the page sent to the browser."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def click(at, points):
    """Send the browser's selection event for the first map, as a click on its points would."""
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = at.get("plotly_chart")[0].proto.id
    state.string_value = json.dumps({"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}})
    at._run(states)


def array(value):
    """A numeric array from a figure spec: plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


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
    assert "box- or lasso-select" in at.caption[-1].value

    at.selectbox(key="map_colour").set_value("prompt_version").run()
    [spec] = chart_specs(at)
    assert {t["name"] for t in spec["data"]} == {"appearance@v1", "preference@v1"}  # one entry per version


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


def test_search_rings_matching_items_and_fades_the_rest(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    at.text_input(key="map_search").set_value("leather tote").run()
    assert not at.exception
    assert "2 item(s) match “leather tote”." in [shown(c.value) for c in at.caption]
    [spec] = chart_specs(at)
    [ring] = [t for t in spec["data"] if t["name"] == "search matches"]
    assert sorted(d[0] for d in ring["customdata"]) == ["B1", "B2"]
    [bags] = [t for t in spec["data"] if t["name"] == "bags"]
    assert array(bags["marker"]["opacity"]) == [0.9, 0.9]
    [apparel] = [t for t in spec["data"] if t["name"] == "apparel"]
    assert array(apparel["marker"]["opacity"]) == [0.12, 0.12, 0.12]


def test_colour_by_a_facet_gives_each_value_one_colour_in_both_maps(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    at.toggle(key="map_side").set_value(True).run()
    at.selectbox(key="map_rep_b").set_value("title").run()
    at.selectbox(key="map_colour").set_value("style").run()
    assert not at.exception
    left, right = chart_specs(at)
    colours = [{t["name"]: t["marker"]["color"] for t in spec["data"]} for spec in (left, right)]
    assert colours[0] == colours[1]
    assert set(colours[0]) == {"minimalist", "streetwear", "classic", "rustic"}
    assert len(set(colours[0].values())) == 4


def test_clicking_an_item_shows_its_picture_and_values(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    click(at, [{"customdata": ["B2", "Red Leather Tote", "bags", "B2"]}])
    assert not at.exception
    assert len(at.get("image")) == 1  # the clicked item's thumbnail
    assert shown(at.markdown[-1].value) == "**Red Leather Tote**"
    assert "style: classic" in [shown(c.value) for c in at.caption]


def test_the_map_downloads_as_html(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    assert [b.proto.label for b in at.get("download_button")] == ["Download map (HTML)"]


def test_a_box_selection_shows_each_selected_items_thumbnail(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    click(at, [{"customdata": [sku, "", sku]} for sku in ("A1", "A2", "A3", "B1", "B2")])
    assert not at.exception
    assert "5 selected product(s)." in [c.value for c in at.caption]
    assert len(at.get("image")) == 5


def test_a_map_selection_is_approved_or_flagged_in_bulk(app_lab):
    at = open_page(app_lab, PAGE, timeout=TIMEOUT)
    run = at.selectbox(key="map_rep").value
    click(at, [{"customdata": [sku, "", sku]} for sku in ("A1", "A2", "B1")])
    at.button(key="map_bulk_approve").click().run(timeout=TIMEOUT)
    assert not at.exception
    assert [shown(s.value) for s in at.success] == ["Approved 3"]
    rep = app_lab.store.representation(run)
    table = qa.qa_table(app_lab, prompt_ref=rep["prompt_ref"], provider=rep["provider"]).set_index("sku")
    assert set(table.loc[["A1", "A2", "B1"], "status"]) == {"approved"}
    assert "approved" not in set(table.drop(index=["A1", "A2", "B1"])["status"])
    at.text_input(key="map_bulk_reason").input("wrong colour")
    at.button(key="map_bulk_flag").click().run(timeout=TIMEOUT)
    table = qa.qa_table(app_lab, prompt_ref=rep["prompt_ref"], provider=rep["provider"]).set_index("sku")
    assert set(table.loc[["A1", "A2", "B1"], "status"]) == {"flagged"}
    assert set(table.loc[["A1", "A2", "B1"], "reason"]) == {"wrong colour"}
