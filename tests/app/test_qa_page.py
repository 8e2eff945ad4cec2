import pytest

from core.describe.identity import item_context
from core.models import Attributes, Description
from core.runs.prompt import run_prompt
from core.services import qa
from tests.app.conftest import open_page, successes

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
    at.selectbox(key="qa_regen_prompt").set_value("appearance@v1").run()
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
