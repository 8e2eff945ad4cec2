import io
import json

import pandas as pd
import pytest

from core.catalog.ingest import read_metadata
from core.errors import VitrineError
from core.represent.recommend import search
from core.services.sync import describe_queued, plan_sync
from core.services.upkeep import (
    catalogue_frame,
    export_csv,
    filter_items,
    ingest_uploads,
    update_items,
)
from tests.fakes import png_bytes


def test_filter_by_category_and_words(stocked_lab):
    items = stocked_lab.store.items()
    assert filter_items(items, [], "")["sku"].tolist() == ["A1", "A2", "A3", "B1", "B2", "H1"]
    assert filter_items(items, ["bags", "home"], "")["sku"].tolist() == ["B1", "B2", "H1"]
    assert filter_items(items, [], "LINEN")["sku"].tolist() == ["A1", "A2"]
    assert filter_items(items, [], "red tote")["sku"].tolist() == ["B2"]  # every word, any column
    assert filter_items(items, ["apparel"], "b1")["sku"].tolist() == []
    assert filter_items(items, [], "streetwear")["sku"].tolist() == ["A3"]  # extra metadata column
    assert filter_items(items, [], "a1 (")["sku"].tolist() == []  # text is literal, not a regex


def test_update_items_saves_title_category_and_extras(stocked_lab):
    before = stocked_lab.store.items().set_index("sku")
    rows = catalogue_frame(stocked_lab.store.items()).to_dict("records")
    rows[0].update(title="  Crimson Linen Shirt ", category="Shirts ", style="", brand="Acme")
    assert update_items(stocked_lab, rows) == 1  # unchanged rows are not rewritten
    after = stocked_lab.store.items().set_index("sku")
    a1 = after.loc["A1"]
    assert (a1["title"], a1["category"]) == ("Crimson Linen Shirt", "shirts")
    assert json.loads(a1["extra"]) == {"brand": "Acme"}  # emptied cell drops the key
    for col in ("image_sha256", "image_ext", "added_at"):
        assert a1[col] == before.loc["A1", col]
    assert after.loc["A2", "extra"] == before.loc["A2", "extra"]
    hits = search(stocked_lab, "crimson shirts", k=1, representation="title")
    assert hits[0].sku == "A1"  # the title representation was re-synced


def test_update_items_validates_everything_before_writing(stocked_lab):
    rows = catalogue_frame(stocked_lab.store.items()).to_dict("records")
    rows[0]["title"] = "Changed"
    rows[1]["title"] = "   "
    rows.append({"sku": "NOPE", "title": "Ghost", "category": "x"})
    with pytest.raises(VitrineError) as err:
        update_items(stocked_lab, rows)
    assert "A2: title must not be empty" in str(err.value)
    assert "unknown SKU 'NOPE'" in str(err.value)
    assert stocked_lab.store.items().set_index("sku").loc["A1", "title"] == "Red Linen Shirt"


def test_update_items_rejects_duplicate_rows(stocked_lab):
    rows = [{"sku": "A1", "title": "One", "category": "x"}, {"sku": "A1", "title": "Two", "category": "x"}]
    with pytest.raises(VitrineError, match="appears twice"):
        update_items(stocked_lab, rows)


def test_export_csv_defuses_formulas_and_reimports(stocked_lab):
    items = stocked_lab.store.items()
    items.loc[0, "title"] = "=HYPERLINK(\"http://evil\")"
    items.loc[1, "title"] = "-2+3"
    items.loc[2, "title"] = "@SUM(A1)"
    items.loc[3, "title"] = "\tTabbed"
    items.loc[4, "title"] = "Plain - title"
    data = export_csv(items)
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert frame["title"].tolist()[:5] == ["'=HYPERLINK(\"http://evil\")", "'-2+3", "'@SUM(A1)", "'\tTabbed",
                                          "Plain - title"]
    assert list(frame.columns) == ["sku", "title", "category", "style", "image"]
    meta = read_metadata(data)  # a valid metadata CSV for the stored images
    assert meta[f"{items.loc[5, 'image_sha256']}.png"]["sku"] == "H1"


def test_export_csv_defuses_headers(stocked_lab):
    items = stocked_lab.store.items().assign(**{"=cmd": "x"})
    header = export_csv(items).decode("utf-8-sig").splitlines()[0]
    assert header.endswith(",'=cmd,image")


def test_ingest_uploads_reports_and_builds_title(lab):
    report = ingest_uploads(lab, [("T1.png", png_bytes("green")), ("bad.png", b"not an image")])
    assert [(v.file, v.status) for v in report.verdicts] == [("T1.png", "accepted"), ("bad.png", "rejected")]
    assert lab.store.items()["sku"].tolist() == ["T1"]
    assert search(lab, "t1", k=1, representation="title")[0].sku == "T1"
    with pytest.raises(VitrineError, match="at least one"):
        ingest_uploads(lab, [])


def test_describe_new_only_touches_undescribed_items(stocked_lab, fake_describer):
    stocked_lab.store.set_setting("active_provider", "fake")
    assert len(plan_sync(stocked_lab).to_describe) == 6
    report = describe_queued(stocked_lab)
    assert report.calls == 6 and report.representation.startswith("preference@v")
    assert plan_sync(stocked_lab).to_describe == []
    ingest_uploads(stocked_lab, [("N1.png", png_bytes("black"))])
    assert plan_sync(stocked_lab).to_describe == ["N1"]
    fake_describer.calls.clear()
    assert describe_queued(stocked_lab).calls == 1
    assert len(fake_describer.calls) == 1
    with pytest.raises(VitrineError, match="already has a description of its current inputs"):
        describe_queued(stocked_lab)
