"""The review loop's core: approval keeps an edit visible, facets are editable, bulk actions, Regenerate's default."""

import io

import pandas as pd
import pytest

from core.catalog.journal import undo
from core.errors import VitrineError
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.export import product_copy


@pytest.fixture
def described(stocked_lab):
    stocked_lab.store.set_setting("active_provider", "fake")
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake")
    return stocked_lab


def _row(lab, sku):
    table = qa.qa_table(lab, prompt_ref="preference@v1")
    return table[table["sku"] == sku].iloc[0]


def test_approving_an_edited_description_keeps_it_edited(described):
    key = _row(described, "A1")["key"]
    qa.edit(described, key, "A breezy red linen shirt for seaside weekends.")
    qa.approve(described, key)
    row = _row(described, "A1")
    assert (row["status"], bool(row["edited"])) == ("approved", True)
    assert qa.qa_table(described, status="edited")["sku"].tolist() == ["A1"]
    assert qa.qa_table(described, status="approved")["sku"].tolist() == ["A1"]
    qa.flag(described, key, "too breezy")
    assert bool(_row(described, "A1")["edited"])


def test_facets_are_edited_as_a_human_revision_that_export_uses(described):
    row = _row(described, "B1")
    saved = qa.edit_facets(described, row["key"], {"material": ["Leather", " "], "colour": "black",
                                                    "style": ["classic"]}, revision=row["revision"])
    assert saved["status"] == "edited"
    after = _row(described, "B1")
    assert after["attributes"]["material"] == ["leather"] and after["attributes"]["colour"] == ["black"]
    assert after["original_attributes"]["material"] == []  # the model's facets stay visible
    assert after["text"] == row["text"] and bool(after["edited"])
    copy = product_copy(described).frame.set_index("sku")
    assert copy.loc["B1", "material"] == "leather" and bool(copy.loc["B1", "edited"])
    undo(described.store, "edit")
    assert _row(described, "B1")["attributes"]["material"] == []


def test_facet_edit_refuses_unknown_facets_and_unchanged_facets(described):
    row = _row(described, "B2")
    with pytest.raises(VitrineError, match="unknown facet 'fabric'"):
        qa.edit_facets(described, row["key"], {"fabric": ["silk"]})
    with pytest.raises(VitrineError, match="nothing changed"):
        qa.edit_facets(described, row["key"], row["attributes"])
    assert _row(described, "B2")["status"] == ""


def test_facet_edit_on_a_version_someone_changed_is_a_conflict(described):
    row = _row(described, "H1")
    qa.approve(described, row["key"], reviewer="Ana")
    with pytest.raises(qa.ReviewConflict, match="Ana"):
        qa.edit_facets(described, row["key"], {"material": ["ceramic"]}, revision=row["revision"])
    assert _row(described, "H1")["attributes"]["material"] == []


def test_bulk_approve_and_flag_report_what_they_skipped(described, fake_describer):
    fake_describer.queue.append(RuntimeError("rate limited"))
    run_prompt(described, described.prompts.get("appearance@v1"), "fake", concurrency=1)
    table = qa.qa_table(described)
    failed = table[table["error"] != ""].iloc[0]
    picked = table[table["prompt_ref"] == "preference@v1"].head(3)
    seen = dict(zip(picked["key"], picked["revision"], strict=True))
    qa.flag(described, picked["key"].iloc[0], "someone else got here first", reviewer="Ana")
    result = qa.approve_many(described, {**seen, failed["key"]: failed["revision"]}, reviewer="Ben")
    assert sorted(result.done) == sorted(picked["key"].iloc[1:])
    assert [k for k, _ in result.skipped] == sorted([picked["key"].iloc[0], failed["key"]])
    assert "Ana" in dict(result.skipped)[picked["key"].iloc[0]]
    assert "failed" in dict(result.skipped)[failed["key"]]
    flagged = qa.flag_many(described, {failed["key"]: failed["revision"]}, "broken output")
    assert flagged.done == [failed["key"]] and not flagged.skipped
    with pytest.raises(VitrineError, match="reason"):
        qa.flag_many(described, seen, " ")
    with pytest.raises(VitrineError, match="select"):
        qa.approve_many(described, {})


def test_regenerate_defaults_to_the_newest_version_of_the_prompt(described):
    assert qa.regenerate_default(described, "preference@v1") == "preference@v1"
    v1 = described.prompts.get("preference@v1")
    described.prompts.save("preference", v1.template + "\nMention the fit.", variables=list(v1.variables),
                           facets=list(v1.facets), max_words=v1.max_words)
    assert qa.regenerate_default(described, "preference@v1") == "preference@v2"
    assert qa.regenerate_default(described, "gone@v3") == described.active_prompt().ref


def test_the_qa_table_downloads_as_the_reviewer_filtered_it_and_formula_safe(described_lab):
    lab = described_lab.lab
    table = qa.qa_table(lab)
    key = table.iloc[0]["key"]
    qa.edit(lab, key, "=HYPERLINK(\"http://x\",\"click\") a reviewer's text")
    view = qa.filter_qa(qa.qa_table(lab), status="edited")
    frame = pd.read_csv(io.BytesIO(qa.qa_csv(view)), encoding="utf-8-sig", keep_default_na=False)
    assert frame["sku"].tolist() == view["sku"].tolist() and len(frame) == 1
    assert frame.loc[0, "text"].startswith("'=HYPERLINK")  # shows as text in a spreadsheet, never runs
    assert frame.loc[0, "original_text"] == view.iloc[0]["original_text"]
    assert frame.loc[0, "status"] == "edited" and "auto_flags" in frame.columns
