"""Formula-safe CSV (one helper for every CSV Vitrine writes) and `vitrine export descriptions`."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from core.cli import main as cli
from core.errors import VitrineError
from core.runs.prompt import run_prompt
from core.safe_text import formula_safe
from core.services import qa
from core.services.export import product_copy
from core.services.upkeep import export_csv, update_items
from tests.fakes import FakeDescriber


def _read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_catalogue_export_keeps_negative_and_signed_numbers_as_numbers(stocked_lab):
    items = stocked_lab.store.items().assign(price=["-12.5", "+3", "-1e3", "-2+3", "=1+1", "@x"])
    assert _read(export_csv(items))["price"].tolist() == ["-12.5", "+3", "-1e3", "'-2+3", "'=1+1", "'@x"]


@pytest.mark.parametrize(("cell", "safe"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"),
    ("+cmd", "'+cmd"), ("\tTabbed", "'\tTabbed"), ("\r1", "'\r1"), ("-", "'-"), ("-inf", "'-inf"),
    ("-12.5", "-12.5"), ("+3", "+3"), ("-.5e-3", "-.5e-3"), ("Plain - title", "Plain - title"), ("", ""),
    (-12.5, -12.5), (None, None),
])
def test_formula_safe_quotes_formulas_and_leaves_numbers(cell, safe):
    assert formula_safe(cell) == safe


# --- product copy -----------------------------------------------------------------------------------

def _key(lab, sku: str) -> str:
    table = qa.qa_table(lab)
    return table.loc[table["sku"] == sku, "key"].iloc[0]


@pytest.fixture
def reviewed(described_lab):
    """A1 approved, A2 edited then approved, A3 edited only, B1 flagged, B2 and H1 unreviewed."""
    lab = described_lab.lab
    qa.approve(lab, _key(lab, "A1"))
    qa.edit(lab, _key(lab, "A2"), "=A blue linen shirt, edited by a human.")
    qa.approve(lab, _key(lab, "A2"))
    qa.edit(lab, _key(lab, "A3"), "A green denim jacket, edited but not approved.")
    qa.flag(lab, _key(lab, "B1"), "wrong colour")
    return described_lab


def test_product_copy_has_every_described_item_with_its_status_facets_and_the_edit(reviewed):
    export = product_copy(reviewed.lab)
    frame = export.frame.set_index("sku")
    assert export.run == reviewed.representation and export.notes() == []
    assert list(export.frame.columns) == ["sku", "title", "category", "run", "text", "style", "usage_context",
                                          "occasion", "material", "pattern", "colour", "status", "edited",
                                          "description_key"]
    assert frame["status"].to_dict() == {"A1": "approved", "A2": "approved", "A3": "edited", "B1": "flagged",
                                         "B2": "unreviewed", "H1": "unreviewed"}
    assert frame["edited"].to_dict() == {"A1": False, "A2": True, "A3": True, "B1": False, "B2": False, "H1": False}
    assert frame.loc["A2", "text"] == "=A blue linen shirt, edited by a human."  # the edit wins
    assert frame.loc["B1", "text"] == "Black Leather Tote bags for preference"
    assert frame.loc["A3", "style"] == "streetwear" and frame.loc["A3", "title"] == "Green Denim Jacket"
    assert set(frame["run"]) == {reviewed.representation}
    assert frame.loc["A1", "description_key"] == _key(reviewed.lab, "A1")


def test_approved_only_keeps_approved_and_edited_and_approved_and_counts_the_rest(reviewed):
    export = product_copy(reviewed.lab, approved_only=True)
    assert export.frame["sku"].tolist() == ["A1", "A2"]
    assert export.notes() == ["4 item(s) are not approved in QA (left out: approved only): A3, B1, B2, H1"]


def test_items_without_a_current_or_successful_description_are_counted_not_dropped(reviewed):
    lab = reviewed.lab
    update_items(lab, [{"sku": "H1", "title": "Blue Ceramic Jug", "category": "home"}])  # a new input: undescribed
    failing = FakeDescriber([RuntimeError("provider down")])
    lab.describer_overrides["fake"] = failing
    lab.store.upsert_items([{**lab.store.items().set_index("sku").loc["B2"].to_dict(), "sku": "B3",
                             "title": "Tan Leather Tote"}])
    run_prompt(lab, lab.active_prompt(), "fake", skus=["B3"])
    export = product_copy(lab)
    assert export.frame["sku"].tolist() == ["A1", "A2", "A3", "B1", "B2"]
    assert export.notes() == ["1 item(s) have no description of their current inputs under the run: H1",
                              "1 item(s) have a failed description under the run: B3"]


def test_a_named_run_is_exported_and_an_unknown_one_is_refused_with_the_known_runs(reviewed):
    lab = reviewed.lab
    other = run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1", "B1"]).representation
    export = product_copy(lab, other)
    assert export.frame["sku"].tolist() == ["A1", "B1"] and set(export.frame["status"]) == {"unreviewed"}
    assert len(export.missing) == 4
    with pytest.raises(VitrineError, match=r"no descriptions under preference@v1/fake/fake-2; runs with "
                                           r"descriptions: appearance@v1/fake/fake-1, preference@v1/fake/fake-1"):
        product_copy(lab, "preference@v1/fake/fake-2")
    with pytest.raises(VitrineError, match="expected PROMPT@vN/PROVIDER/MODEL"):
        product_copy(lab, "preference@v1")


def test_facets_are_the_run_prompts_each_joined_in_one_cell(reviewed):
    lab = reviewed.lab
    lab.describer_overrides["fake"] = FakeDescriber([("A red shirt.", {"colour": ["red", "dark red"],
                                                                       "material": ["linen"]})])
    run = run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1"]).representation
    row = product_copy(lab, run).frame.iloc[0]
    assert list(row.index[5:8]) == ["colour", "pattern", "material"]
    assert (row["colour"], row["pattern"], row["material"]) == ("red; dark red", "", "linen")


def test_export_of_an_empty_catalogue_is_refused(lab):
    with pytest.raises(VitrineError, match="catalogue is empty"):
        product_copy(lab)


# --- the command --------------------------------------------------------------------------------------

@pytest.fixture
def vitrine(reviewed, monkeypatch):
    """main() on the reviewed workspace with its fake describer and hash encoder."""
    monkeypatch.setattr(cli, "open_lab", lambda _workspace: reviewed.lab)
    return lambda *argv: cli.main([*argv, "--workspace", str(reviewed.lab.workspace.root)])


def test_csv_goes_to_stdout_formula_safe_and_notes_to_stderr(vitrine, capsysbinary):
    assert vitrine("export", "descriptions", "--approved", "--format", "csv") == 0
    out, err = capsysbinary.readouterr()
    frame = _read(out)
    assert frame["sku"].tolist() == ["A1", "A2"]
    assert frame.loc[1, "text"] == "'=A blue linen shirt, edited by a human."
    assert frame["edited"].tolist() == ["False", "True"]
    assert err.decode().strip() == ("note: 4 item(s) are not approved in QA (left out: approved only): "
                                    "A3, B1, B2, H1")


def test_jsonl_keeps_values_as_they_are(vitrine, capsysbinary):
    assert vitrine("export", "descriptions", "--format", "jsonl") == 0
    rows = [json.loads(line) for line in capsysbinary.readouterr().out.decode().splitlines()]
    assert [r["sku"] for r in rows] == ["A1", "A2", "A3", "B1", "B2", "H1"]
    assert rows[1]["text"] == "=A blue linen shirt, edited by a human." and rows[1]["edited"] is True


def test_parquet_needs_a_file_and_round_trips(vitrine, reviewed, tmp_path, capsys):
    assert vitrine("export", "descriptions", "--format", "parquet") == 2
    assert "parquet is a binary format: give --out FILE" in capsys.readouterr().err
    out = tmp_path / "copy.parquet"
    assert vitrine("export", "descriptions", "--format", "parquet", "--out", str(out)) == 0
    assert "6 description(s) of preference@v1/fake/fake-1 written to" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(out), product_copy(reviewed.lab).frame, check_dtype=False)


def test_an_unknown_run_exits_2_and_writes_nothing(vitrine, tmp_path, capsys):
    out = tmp_path / "copy.csv"
    assert vitrine("export", "descriptions", "--run", "nope@v1/fake/x", "--format", "csv", "--out", str(out)) == 2
    assert "no prompt named 'nope'" in capsys.readouterr().err and not out.exists()
