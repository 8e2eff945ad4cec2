import io
import re
import zipfile

from core.services.sync import plan_sync
from tests.app.conftest import errors, open_page, successes
from tests.fakes import png_bytes


def button(at, label):
    return next(b for b in at.button if b.label == label)


def captions(at):
    return [c for img in at.image for c in img.captions]


def test_catalog_grid_and_filters(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    assert not at.exception
    assert len(captions(at)) == 6
    at.text_input[0].input("tote").run()
    assert any(c.value == "2 of 6 items" for c in at.caption)
    assert sorted(captions(at)) == ["B1 · Black Leather Tote", "B2 · Red Leather Tote"]
    at.text_input[0].input("").run()
    at.multiselect[0].select("home").run()
    assert captions(at) == ["H1 · Blue Ceramic Vase"]
    assert at.data_editor[0].value["sku"].tolist() == ["H1"]  # the editor follows the filter


def test_upload_reports_each_file_then_describes_new_items(app_lab):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Z1.png", png_bytes("blue"))
    at = open_page(app_lab, "pages/catalog.py")
    at.file_uploader[0].set_value([("N1.png", png_bytes("green"), "image/png"),
                                   ("broken.png", b"not an image", "image/png"),
                                   ("more.zip", archive.getvalue(), "application/zip")])
    button(at, "Ingest").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Accepted": "2", "Updated": "0", "Duplicate": "0", "Rejected": "1"}
    report = at.dataframe[0].value
    assert report.set_index("file").loc["broken.png", "status"] == "rejected"
    assert "not a recognised image" in report.set_index("file").loc["broken.png", "reason"]
    assert {"N1", "Z1"} <= set(app_lab.store.items()["sku"])
    assert sorted(plan_sync(app_lab).to_describe) == ["N1", "Z1"]
    assert any("2 item(s) have no description" in i.value for i in at.info)

    button(at, "Describe new items with the active prompt").click().run()
    assert not at.exception and not at.error
    assert plan_sync(app_lab).to_describe == []
    assert any(s.startswith("Described: preference@v") for s in successes(at))


def test_offline_provider_is_flagged_as_not_an_lvlm(stocked_lab):
    at = open_page(stocked_lab, "pages/catalog.py")
    assert not at.exception
    assert any("6 item(s) have no description" in i.value for i in at.info)
    assert any("not an LVLM" in w.value for w in at.warning)


def test_edit_in_data_editor_is_saved(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {0: {"title": "Crimson Shirt", "category": "Shirts"}},
                             "added_rows": [], "deleted_rows": []}
    button(at, "Save changes").click().run()
    assert not at.exception and not at.error
    assert successes(at) == ["Saved 1 item(s)."]
    a1 = app_lab.store.items().set_index("sku").loc["A1"]
    assert (a1["title"], a1["category"]) == ("Crimson Shirt", "shirts")
    assert at.data_editor[0].value.set_index("sku").loc["A1", "category"] == "shirts"  # fresh editor


def test_invalid_edit_shows_error_and_saves_nothing(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    at.session_state[at.data_editor[0].key] = {"edited_rows": {1: {"title": " "}}, "added_rows": [],
                                               "deleted_rows": []}
    button(at, "Save changes").click().run()
    assert not at.exception
    assert "A2: title must not be empty" in errors(at)[0]
    assert app_lab.store.items().set_index("sku").loc["A2", "title"] == "Blue Linen Shirt"


def test_delete_needs_confirmation(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    at.multiselect(key="catalog_delete").select("B1").run()
    assert button(at, "Delete").disabled
    at.checkbox(key="catalog_delete_confirm").check().run()
    assert not button(at, "Delete").disabled
    button(at, "Delete").click().run()
    assert not at.exception and not at.error
    assert successes(at) == ["Deleted 1 item(s)."]
    assert "B1" not in set(app_lab.store.items()["sku"])
    assert at.multiselect(key="catalog_delete").value == []
    assert not at.checkbox(key="catalog_delete_confirm").value


def test_empty_catalogue_offers_upload(lab):
    at = open_page(lab, "pages/catalog.py")
    assert not at.exception
    assert at.expander[0].proto.expanded
    assert "catalogue is empty" in at.info[0].value


def test_unusable_metadata_csv_is_a_clear_error(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    at.file_uploader[0].set_value(("N1.png", png_bytes("green"), "image/png"))
    at.file_uploader[1].set_value(("meta.csv", b"name,title\nN1.png,Shirt\n", "text/csv"))
    button(at, "Ingest").click().run()
    assert not at.exception
    assert "missing column(s) sku, image" in errors(at)[0]
    assert "N1" not in set(app_lab.store.items()["sku"])


def _add_items(lab, n, stamp="2026-01-01T00:00:00+00:00"):
    """Rows without images (the grid shows their text): enough to need a second page."""
    lab.store.upsert_items([{"sku": f"X{i:03d}", "title": f"Extra {i}", "category": "extra",
                             "image_sha256": f"{i:064x}", "image_ext": ".png", "extra": "{}", "added_at": stamp}
                            for i in range(n)])


def _grid(at):
    """Grid cells: thumbnails' captions, then the text of items without a thumbnail (not other page text)."""
    return [c for c in captions(at) + [t.value for t in at.text] if re.match(r"[A-Z]+\d+ · ", c)]


def test_newest_upload_leads_the_grid_and_pages_reach_every_item(app_lab):
    _add_items(app_lab, 60)
    a1 = app_lab.store.items().set_index("sku").loc["A1"]  # its image, so the new item has a thumbnail
    app_lab.store.upsert_items([{"sku": "ZZ9", "title": "Just Uploaded", "category": "extra",
                                 "image_sha256": a1["image_sha256"], "image_ext": a1["image_ext"], "extra": "{}",
                                 "added_at": "2099-01-01T00:00:00+00:00"}])
    at = open_page(app_lab, "pages/catalog.py")
    assert not at.exception
    assert _grid(at)[0] == "ZZ9 · Just Uploaded"  # newest first: not hidden past item 60 by SKU order
    assert at.number_input(key="catalog_page").max == 2
    first = set(_grid(at))
    at.number_input(key="catalog_page").set_value(2).run()
    second = set(_grid(at))
    assert len(first) == 60 and len(second) == 7 and not first & second
    assert any(c.value == "Items 61–67 of 67." for c in at.caption)
    at.session_state["catalog_sort"] = "SKU"
    at.number_input(key="catalog_page").set_value(1).run()
    assert _grid(at)[0] == "A1 · Red Linen Shirt"


def test_every_grid_item_links_to_its_detail_page(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    links = {e.proto.query_string for e in at.get("page_link")}
    assert links == {f"sku={s}" for s in app_lab.store.items()["sku"]}


def test_ingest_without_images_says_what_to_choose(app_lab):
    at = open_page(app_lab, "pages/catalog.py")
    count = app_lab.store.item_count()
    button(at, "Ingest").click().run()
    assert errors(at) == ["Choose images or a .zip to ingest first."]
    assert app_lab.store.item_count() == count
