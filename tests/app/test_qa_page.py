import pytest

from core.describe.identity import item_context
from core.models import Attributes, Description
from core.runs.prompt import run_prompt
from core.services import qa
from tests.app.conftest import open_page, shown, successes

PAGE = "pages/qa.py"
HOSTILE = "<script>alert(1)</script> a **bold** claim about this shirt"
MARKDOWN_TYPES = ("markdown", "caption", "title", "header", "subheader", "success", "info", "warning", "error",
                  "exception", "toast", "latex")


def _key(lab, sku, prompt_ref="preference@v1"):
    table = qa.qa_table(lab, prompt_ref=prompt_ref)
    return table.loc[table["sku"] == sku, "key"].iloc[0]


def _select(at, lab, sku, prompt_ref="preference@v1"):
    key = _key(lab, sku, prompt_ref)
    return at.selectbox(key="qa_item").set_value(f"{key}|{sku}").run()


def test_page_renders_table_and_detail(app_lab):
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert len(at.dataframe[0].value) == 12  # 6 items x 2 prompt versions
    assert any("missing facets" in t.value for t in at.text)  # the fake fills `style` only
    at.selectbox(key="qa_prompt").set_value("appearance@v1").run()
    at.selectbox(key="qa_category").set_value("bags").run()
    assert sorted(at.dataframe[0].value["sku"]) == ["B1", "B2"]


def test_approving_on_the_page_sets_status(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "B1")
    at.button(key="qa_approve").click().run()
    assert not at.exception
    assert qa.qa_table(app_lab, status="approved")["key"].tolist() == [_key(app_lab, "B1")]
    assert any("Approved B1" in s for s in successes(at))
    at.selectbox(key="qa_status").set_value("approved").run()
    assert at.dataframe[0].value["sku"].tolist() == ["B1"]


def test_flag_needs_a_reason(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "A2")
    at.button(key="qa_flag").click().run()
    assert any("reason" in e.value for e in at.error)
    key = _key(app_lab, "A2")
    at.text_input(key=f"qa_reason_{key}").input("colour is wrong").run()
    at.button(key="qa_flag").click().run()
    flagged = qa.qa_table(app_lab, status="flagged")
    assert flagged["reason"].tolist() == ["colour is wrong"]


def test_edit_on_the_page_stores_a_revision_and_keeps_the_original(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "H1")
    key = _key(app_lab, "H1")
    at.text_area(key=f"qa_edit_{key}").input("Hand-thrown rustic blue vase for a calm sunny windowsill.").run()
    at.button(key="qa_save").click().run()
    assert not at.exception
    row = qa.qa_table(app_lab, status="edited").iloc[0]
    assert row["text"] == "Hand-thrown rustic blue vase for a calm sunny windowsill."
    assert row["original_text"] == "Blue Ceramic Vase home for preference"
    texts = [t.value for t in at.text]
    assert row["text"] in texts and row["original_text"] in texts  # both shown after the rerun


def test_model_text_is_rendered_literally(app_lab):
    prompt = app_lab.prompts.get("preference@v1")
    item = app_lab.store.items().set_index("sku").loc["A1"]
    app_lab.store.upsert_descriptions([Description(
        image_sha256=item["image_sha256"], prompt_name=prompt.name, prompt_version=prompt.version,
        prompt_hash=prompt.hash, provider="fake", model="fake-1", text=HOSTILE,
        inputs_hash=prompt.inputs_hash(item_context(item.to_dict())), attributes=Attributes(style=["**loud**"]))])
    at = _select(open_page(app_lab, PAGE), app_lab, "A1")
    assert not at.exception
    assert HOSTILE in [t.value for t in at.text]
    for kind in MARKDOWN_TYPES:
        for element in at.get(kind):
            assert "<script>" not in str(element.value) and "**bold**" not in str(element.value), kind


def test_regenerate_with_another_prompt(stocked_lab, fake_describer):
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake")
    at = _select(open_page(stocked_lab, PAGE), stocked_lab, "A3")
    calls = len(fake_describer.calls)
    at.session_state["qa_tab"] = "Regenerate"
    at.run().selectbox(key=f"qa_regen_prompt_{_key(stocked_lab, 'A3')}").set_value("appearance@v1").run()
    at.button(key="qa_regen").click().run()
    assert not at.exception
    assert fake_describer.calls[calls:] == [(_sha(stocked_lab, "A3"), "appearance@v1")]
    assert qa.qa_table(stocked_lab, prompt_ref="appearance@v1")["sku"].tolist() == ["A3"]
    assert any("Regenerated A3" in s for s in successes(at))


def _sha(lab, sku):
    return lab.store.items().set_index("sku").loc[sku, "image_sha256"]


@pytest.mark.parametrize("fails", [True, False])
def test_retry_failed_items_button(stocked_lab, fake_describer, fails):
    if fails:
        fake_describer.queue.append(RuntimeError("rate limited"))
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", concurrency=1)
    at = open_page(stocked_lab, PAGE)
    if not fails:
        assert not [b for b in at.button if b.key == "qa_retry"]
        return
    assert len(qa.qa_table(stocked_lab, status="failed")) == 1
    assert at.selectbox(key="qa_retry_run").format_func(0) == "preference@v1 · fake/fake-1 (1 failed)"
    at.button(key="qa_retry").click().run()
    assert not at.exception
    assert qa.qa_table(stocked_lab, status="failed").empty
    assert any("Retried" in s for s in successes(at))


# --- the review loop (issue 15) -------------------------------------------------------------------

def _buttons(at):
    return [b.key for b in at.button]


def test_the_open_tab_survives_the_reruns_of_editing(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "H1")
    at.session_state["qa_tab"] = "Edit text"
    at.run()
    at.text_area(key=f"qa_edit_{_key(app_lab, 'H1')}").input("A calmer text for the blue vase.").run()
    assert not at.exception
    assert at.session_state["qa_tab"] == "Edit text"
    assert "qa_save" in _buttons(at) and "qa_regen" not in _buttons(at)  # the server knows which tab is open
    at.button(key="qa_save").click().run()
    assert at.session_state["qa_tab"] == "Edit text" and "qa_save" in _buttons(at)


def test_facets_are_edited_on_the_page(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "B1")
    at.session_state["qa_tab"] = "Edit facets"
    at.run()
    editor = at.data_editor[0]
    rows = editor.value["facet"].tolist()
    at.session_state[editor.key] = {"edited_rows": {rows.index("material"): {"values": "Leather, suede"}},
                                    "added_rows": [], "deleted_rows": []}
    at.button(key="qa_save_facets").click().run()
    assert not at.exception and not at.error
    row = qa.qa_table(app_lab, prompt_ref="preference@v1").set_index("sku").loc["B1"]
    assert row["attributes"]["material"] == ["leather", "suede"] and row["original_attributes"]["material"] == []
    assert any("Saved the facets of B1" in s for s in successes(at))


def test_approving_an_edit_keeps_it_marked_edited_in_the_table(app_lab):
    key = _key(app_lab, "A2")
    qa.edit(app_lab, key, "A reviewer's text for the blue linen shirt.")
    at = _select(open_page(app_lab, PAGE), app_lab, "A2")
    at.button(key="qa_approve").click().run()
    at.selectbox(key="qa_status").set_value("edited").run()
    table = at.dataframe[0].value
    assert table["sku"].tolist() == ["A2"]
    assert (table["status"].iloc[0], bool(table["edited"].iloc[0])) == ("approved", True)


def test_regenerate_offers_the_newest_prompt_version(app_lab):
    v1 = app_lab.prompts.get("preference@v1")
    app_lab.prompts.save("preference", v1.template + "\nMention the fit.", variables=list(v1.variables),
                         facets=list(v1.facets), max_words=v1.max_words)
    at = _select(open_page(app_lab, PAGE), app_lab, "A1")
    at.session_state["qa_tab"] = "Regenerate"
    at.run()
    assert at.selectbox(key=f"qa_regen_prompt_{_key(app_lab, 'A1')}").value == "preference@v2"


def test_keyboard_queue_approves_flags_and_moves_on(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "A1")
    queue = ("qa_approve", "qa_flag", "qa_next", "qa_prev")
    shortcuts = {b.key: b.proto.shortcut for b in at.button if b.key in queue}
    assert shortcuts == {"qa_approve": "a", "qa_flag": "f", "qa_next": "n", "qa_prev": "p"}
    first = at.selectbox(key="qa_item").value
    at.button(key="qa_approve").click().run()
    assert not at.exception
    second = at.selectbox(key="qa_item").value
    assert second != first and qa.qa_table(app_lab, status="approved")["key"].tolist() == [first.split("|")[0]]
    at.text_input(key=f"qa_reason_{second.split('|')[0]}").input("hallucinated pocket").run()
    at.button(key="qa_flag").click().run()
    third = at.selectbox(key="qa_item").value
    assert third not in (first, second)
    assert qa.qa_table(app_lab, status="flagged")["key"].tolist() == [second.split("|")[0]]
    at.button(key="qa_next").click().run()
    assert at.selectbox(key="qa_item").value not in (first, second, third)
    at.button(key="qa_prev").click().run()
    assert at.selectbox(key="qa_item").value == third


def test_bulk_approve_and_flag_a_table_selection(app_lab):
    at = open_page(app_lab, PAGE)
    at.selectbox(key="qa_prompt").set_value("preference@v1").run()
    assert "qa_bulk_approve" not in _buttons(at)
    skus = at.dataframe[0].value["sku"].tolist()
    at.session_state["qa_table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    at.button(key="qa_bulk_approve").click().run()
    assert not at.exception
    assert sorted(qa.qa_table(app_lab, status="approved")["sku"]) == sorted(skus[:2])
    assert any("Approved 2" in s for s in successes(at))
    at.session_state["qa_table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    at.button(key="qa_bulk_flag").click().run()
    assert any("reason" in e.value for e in at.error)
    at.text_input(key="qa_bulk_reason").input("off-brand tone").run()
    at.button(key="qa_bulk_flag").click().run()
    assert qa.qa_table(app_lab, status="flagged")["sku"].tolist() == [skus[2]]


def test_every_row_links_to_its_item_detail(app_lab):
    at = open_page(app_lab, PAGE)
    table = at.dataframe[0].value
    assert (table["details"] == "item?sku=" + table["sku"]).all()
    _select(at, app_lab, "B1")
    links = [e for e in at.get("page_link") if "B1" in e.proto.label]
    assert links and links[0].proto.query_string == "sku=B1"


def test_product_copy_export_button_names_what_it_leaves_out(app_lab):
    qa.approve(app_lab, _key(app_lab, "B1"))
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert at.selectbox(key="qa_copy_run").value == "preference@v1/fake/fake-1"
    assert any("5 item(s) are not approved" in shown(c.value) for c in at.caption)
    [button] = [e for e in at.get("download_button") if e.proto.label.startswith(("Download CSV", "Download JSONL",
                                                                                  "Download PARQUET"))]
    assert button.proto.label == "Download CSV" and not button.proto.disabled


def test_the_filtered_table_offers_its_download(app_lab):
    at = open_page(app_lab, PAGE)
    total = len(qa.qa_table(app_lab))
    assert f"Download these {total:,} descriptions (CSV)" in [b.proto.label for b in at.get("download_button")]
    at.selectbox(key="qa_category").select("bags").run()
    bags = len(qa.qa_table(app_lab, category="bags"))
    assert bags < total
    assert f"Download these {bags:,} descriptions (CSV)" in [b.proto.label for b in at.get("download_button")]
