"""Coverage is a fact and descriptions follow their inputs (title edits, shared images), with fakes only."""

import json

import pytest

from core.catalog.ingest import ingest
from core.cli.main import main
from core.errors import VitrineError
from core.represent.coverage import coverage, list_representations, require_complete
from core.represent.representations import build_title
from core.runs.prompt import run_prompt
from core.services.item_view import show_item
from core.services.upkeep import update_items
from tests.fakes import png_bytes


def _described(lab, sku: str) -> dict:
    """The item's description under its (only) description run, as `vitrine show` reports it."""
    return next(r for r in show_item(lab, sku)["representations"] if r["kind"] == "description")["description"]


def _retitle(lab, sku: str, title: str) -> None:
    row = lab.store.items().set_index("sku").loc[sku]
    assert update_items(lab, [{"sku": sku, "title": title, "category": row["category"]}]) == 1


def test_a_title_edit_makes_the_next_run_describe_the_item_again(described_lab, fake_describer):
    lab, rep = described_lab
    _retitle(lab, "A1", "Red Knit Sweater")
    calls = len(fake_describer.calls)
    report = run_prompt(lab, lab.active_prompt(), "fake")
    assert report.calls == 1 and len(fake_describer.calls) == calls + 1  # only the edited item, paid once
    assert _described(lab, "A1")["text"].startswith("Red Knit Sweater")
    assert coverage(lab, rep).complete


def test_skus_sharing_an_image_get_their_own_description_unless_their_inputs_match(lab, tmp_path, fake_describer):
    folder = tmp_path / "imgs"
    folder.mkdir()
    data = png_bytes("blue")
    for name in ("s1.png", "s2.png", "s3.png"):
        (folder / name).write_bytes(data)  # one image (one sha256) for three SKUs
    csv = (b"sku,title,category,image\nS1,Blue Silk Scarf,accessories,s1.png\n"
           b"S2,Blue Cotton Tee,apparel,s2.png\nS3,Blue Cotton Tee,apparel,s3.png\n")
    assert ingest(lab.store, lab.images, [folder], csv).accepted == 3
    report = run_prompt(lab, lab.prompts.get("preference@v1"), "fake")
    assert report.calls == 2  # S2 and S3 render the same prompt: one description serves both
    texts = {s: _described(lab, s)["text"] for s in ("S1", "S2", "S3")}
    assert texts["S1"].startswith("Blue Silk Scarf") and texts["S2"].startswith("Blue Cotton Tee")
    assert texts["S2"] == texts["S3"]


def test_representations_report_count_catalogue_coverage_and_stale(described_lab, capsys):
    lab, rep = described_lab
    _retitle(lab, "B1", "Black Leather Backpack")
    facts = {r["name"]: r for r in list_representations(lab).to_dict("records")}
    assert (facts["title"]["count"], facts["title"]["catalogue"], facts["title"]["stale"]) == (6, 6, 0)
    assert (facts[rep]["count"], facts[rep]["stale"], facts[rep]["complete"]) == (6, 1, False)
    assert coverage(lab, rep).label() == "6 of 6 items (1 stale)"
    assert [r["state"] for r in show_item(lab, "B1")["representations"] if r["name"] == rep] == ["stale"]
    with pytest.raises(VitrineError, match=r"covers 6 of 6 items \(1 stale\).*vitrine sync"):
        require_complete(lab, rep, "promoting")
    assert main(["representations", "--workspace", str(lab.workspace.root), "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[rep] | {"coverage": 1.0, "stale": 1, "catalogue": 6} == listed[rep]


def test_a_partial_run_says_how_much_it_covers(stocked_lab):
    run = run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", skus=["A1", "A2"])
    build_title(stocked_lab)
    fact = coverage(stocked_lab, run.representation)
    assert (fact.covered, fact.catalogue, fact.fraction) == (2, 6, pytest.approx(1 / 3))
    assert set(fact.missing) == {"A3", "B1", "B2", "H1"} and not fact.complete


def test_read_commands_refuse_a_mistyped_workspace(tmp_path, capsys):
    missing = tmp_path / "no-such-workspace"
    for command in (["representations"], ["search", "red shirt"], ["recommend", "--history", "A1"], ["show", "A1"],
                    ["evaluate"]):
        assert main([*command, "--workspace", str(missing)]) == 2
        assert f"no workspace at {missing}" in capsys.readouterr().err
    assert not missing.exists()  # nothing was created on the way
