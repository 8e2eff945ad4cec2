import json

import numpy as np
from streamlit.testing.v1 import AppTest

from core.represent.recommend import recommend
from tests.app.conftest import ROOT, open_page, shown
from tests.app.partial import add_unsynced_item, names
from ui.shopper_link import ShopperLink
from ui.text import plain

PAGE = "pages/shopper.py"
REP = "preference@v1/fake/fake-1"


def rec_table(at, i=0):
    return at.dataframe[i].value


def test_page_renders_and_asks_for_a_shopper(app_lab):
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert at.selectbox(key="shopper_rep").value == REP
    assert f"{REP} · 6 of 6 items" in at.selectbox(key="shopper_rep").options
    assert "title · 6 of 6 items" in at.selectbox(key="shopper_rep_b").options
    assert not at.dataframe and not at.warning
    assert "Pick history items" in at.caption[-1].value


def test_picked_history_returns_k_items_excluding_history(app_lab):
    at = open_page(app_lab, PAGE)
    at.slider(key="shopper_k").set_value(3).run()
    at.multiselect(key="shopper_history").set_value(["A1", "B1"]).run()
    assert not at.exception
    table = rec_table(at)
    assert len(table) == 3
    assert not {"A1", "B1"} & set(table["sku"])
    assert table["sku"].tolist() == [r.sku for r in recommend(app_lab, ["A1", "B1"], 3, REP)]
    assert set(table["closest_history"]) <= {"A1", "B1"}
    assert any(t.value.startswith("closest to ") for t in at.text)  # the explanation under each thumbnail


def test_two_representations_side_by_side_with_overlap(app_lab):
    at = open_page(app_lab, PAGE)
    at.multiselect(key="shopper_history").set_value(["A1"]).run()
    at.slider(key="shopper_k").set_value(5).run()
    at.selectbox(key="shopper_rep_b").set_value("title").run()
    assert not at.exception
    assert len(at.dataframe) == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overlap@5"] == "5 / 5"  # the 5 other items, whatever the order
    assert metrics["Jaccard"] == "1.00"


def test_sample_shopper_and_remove_one_item(app_lab):
    at = open_page(app_lab, PAGE)
    at.radio(key="shopper_source").set_value("Sample shopper").run()
    at.selectbox(key="shopper_sample").set_value("S1").run()
    table = rec_table(at)
    assert len(table) == 3 and not {"A1", "A2", "B1"} & set(table["sku"])  # 6 items, 3 in S1's history
    at.toggle(key="shopper_sensitivity").set_value(True).run()
    assert not at.exception
    sens = at.dataframe[-1].value
    assert sens["removed"].tolist() == ["A1", "A2", "B1"]
    first = sens.iloc[0]  # without A1 in the history, A1 itself becomes recommendable
    assert (first["overlap"], first["entered"], first["left"]) == ("3 / 3", "A1", "")


def test_persona_and_map_with_profile_placed(app_lab):
    at = open_page(app_lab, PAGE, timeout=120)
    at.radio(key="shopper_source").set_value("Persona text").run()
    at.text_input(key="shopper_persona").input("red leather tote bags").run()
    assert rec_table(at)["sku"].tolist()[0] == "B2"
    at.toggle(key="shopper_map_on").set_value(True).run()
    assert not at.exception
    [spec] = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    traces = {t["name"]: t for t in spec["data"]}
    assert traces["persona"]["text"] == ["persona"]
    assert len(traces["recommended"]["customdata"]) == 6  # k=10 on 6 items: all of them


def test_persona_cannot_use_visual_features(app_lab):
    app_lab.store.register_representation("visual", "visual", 8)
    app_lab.store.upsert_vectors("vec_visual", 8, ["A1", "A2"], ["a", "b"], ["x", "y"], np.eye(8, dtype="float32")[:2])
    at = open_page(app_lab, PAGE)
    assert "visual" in names(at.selectbox(key="shopper_rep").options)
    at.radio(key="shopper_source").set_value("Persona text").run()
    assert "visual" not in names(at.selectbox(key="shopper_rep").options)


def test_history_thumbnails_are_drawn_only_while_the_expander_is_open(app_lab):
    at = open_page(app_lab, PAGE)
    at.multiselect(key="shopper_history").set_value(["A1", "B1"]).run()
    assert len(at.expander[0].get("image")) == 2  # picked items: the history starts open
    at.radio(key="shopper_source").set_value("Sample shopper").run()
    at.selectbox(key="shopper_sample").set_value("S1").run()
    assert at.expander[0].label == "History: 3 item(s)"
    assert not at.expander[0].get("image")  # a sample shopper's history starts closed: just its label
    at.session_state["shopper_history_open_Sample shopper"] = True  # what opening it in the browser sets
    at.run()
    assert len(at.expander[0].get("image")) == 3
    assert len(rec_table(at)) == 3


def test_k_beyond_the_candidates_is_said_under_the_list(app_lab):
    at = open_page(app_lab, PAGE)
    at.multiselect(key="shopper_history").set_value(["A1"]).run()
    assert len(rec_table(at)) == 5
    assert plain("k=10 is more than the 5 candidate(s): all 5 are ranked") in [c.value for c in at.caption]


def test_partial_representations_are_said_and_history_without_vectors_is_named(app_lab, tmp_path):
    sku = add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE)
    assert f"{REP} · 6 of 7 items" in at.selectbox(key="shopper_rep").options
    assert [w.value for w in at.warning] == [plain(f"{REP} ranks 6 of 7 items: results can only come from those.")]
    assert at.button(key="shopper_sync_a")
    appearance = next(n for n in names(at.selectbox(key="shopper_rep_b").options) if n.startswith("appearance@"))
    at.selectbox(key="shopper_rep_b").set_value(appearance)
    at.slider(key="shopper_k").set_value(3)
    at.multiselect(key="shopper_history").set_value(["A1", sku]).run()
    assert not at.exception
    assert plain(f"{appearance} ranks 6 of 7 items: results can only come from those.") in [w.value for w in at.warning]
    assert any("Prompt Lab → Promote" in i.value for i in at.info)  # not the active run: Sync would not complete it
    assert "shopper_sync_b" not in {b.key for b in at.button}
    captions = [c.value for c in at.caption]
    for rep in (REP, appearance):
        assert plain(f"1 history item(s) have no vector in {rep} and do not shape the profile: {sku}") in captions


def test_a_link_opens_the_shopper_with_both_representations_and_the_held_out_item(app_lab):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["lab"] = app_lab
    at.query_params.update(ShopperLink("S1", (REP, "title", "random"), ("B1",)).query_params())
    at.switch_page(PAGE)
    at.run()
    assert not at.exception and not at.error
    assert (at.radio(key="shopper_source").value, at.selectbox(key="shopper_sample").value) == ("Sample shopper", "S1")
    assert (at.selectbox(key="shopper_rep").value, at.selectbox(key="shopper_rep_b").value) == (REP, "title")
    assert any(shown(c.value).endswith("representation): random") for c in at.caption)
    assert at.expander[0].label == "History: 2 item(s)"  # A1, A2: B1 is the held-out test item
    assert any("Held out by the evaluation: B1" in shown(i.value) for i in at.info)
    for table in at.dataframe[:2]:  # B1 is no longer hidden as "already seen": each list ranks it
        assert "B1" in set(table.value["sku"]) and not {"A1", "A2"} & set(table.value["sku"])
    for rep in (REP, "title"):
        rank = [r.sku for r in recommend(app_lab, ["A1", "A2"], 10, rep)].index("B1") + 1
        assert plain(f"held-out B1: #{rank} of 4") in [c.value for c in at.caption]
    assert not at.query_params
    at.selectbox(key="shopper_rep_b").set_value(None).run()  # the link was applied once; the reviewer's choice holds
    assert at.selectbox(key="shopper_rep_b").value is None and len(at.dataframe) == 1
