"""Catalogue sorting/paging and the item detail core: every run's description, neighbours per representation."""

import pytest

from core.catalog.browse import SORTS, page_of, sorted_items
from core.errors import VitrineError
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.item_view import item_detail


def test_newest_first_puts_a_new_upload_on_the_first_page(stocked_lab):
    items = stocked_lab.store.items()
    items.loc[items["sku"] == "A2", "added_at"] = "2099-01-01T00:00:00+00:00"  # the latest upload
    assert sorted_items(items, "Newest first")["sku"].iloc[0] == "A2"
    assert sorted_items(items, "SKU")["sku"].tolist() == sorted(items["sku"])
    by_title = sorted_items(items.assign(title=items["title"].str.lower().where(items["sku"] != "H1", "ZEBRA vase")),
                            "Title")
    assert by_title["sku"].iloc[-1] == "H1"  # case-insensitive: 'ZEBRA' after lowercase titles
    with pytest.raises(VitrineError, match="unknown sort"):
        sorted_items(items, "Price")
    assert set(SORTS) == {"Newest first", "SKU", "Title"}


def test_pages_cover_every_item_once_and_clamp(stocked_lab):
    items = stocked_lab.store.items()
    pages = [page_of(items, n, 4) for n in (1, 2)]
    assert [p.pages for p in pages] == [2, 2]
    assert sum((p.rows["sku"].tolist() for p in pages), []) == items["sku"].tolist()
    assert page_of(items, 9, 4).number == 2 and page_of(items, 0, 4).number == 1
    assert page_of(items.head(0), 1, 4).pages == 1


def test_item_detail_shows_every_run_and_neighbours_per_representation(described_lab):
    lab = described_lab.lab
    run_prompt(lab, lab.prompts.get("appearance@v1"), "fake")
    key = qa.qa_table(lab, prompt_ref="preference@v1").set_index("sku").loc["A1", "key"]
    qa.edit(lab, key, "A hand-written red linen shirt text.")
    detail = item_detail(lab, "A1", k=3)
    assert detail.item["title"] == "Red Linen Shirt" and detail.item["style"] == "minimalist"
    assert detail.image_path.endswith(".png")
    runs = detail.descriptions.set_index("run")
    assert set(runs.index) == {"preference@v1/fake/fake-1", "appearance@v1/fake/fake-1"}
    assert runs.loc["preference@v1/fake/fake-1", "text"] == "A hand-written red linen shirt text."
    assert runs.loc["preference@v1/fake/fake-1", "status"] == "edited"
    assert set(detail.neighbours) >= {"title", described_lab.representation}
    for ranking in detail.neighbours.values():
        assert len(ranking) == 3 and "A1" not in [r.sku for r in ranking]
    with pytest.raises(VitrineError, match="no item with SKU 'ZZ'"):
        item_detail(lab, "ZZ")


def test_item_detail_says_why_a_representation_has_no_neighbours(stocked_lab):
    from core.represent.representations import build_title

    build_title(stocked_lab)
    stocked_lab.store.delete_rows(stocked_lab.store.representation("title")["table"], "sku = 'B1'")
    detail = item_detail(stocked_lab, "B1")
    assert "title" not in detail.neighbours
    assert "no vector" in detail.missing["title"]
    assert detail.descriptions.empty
