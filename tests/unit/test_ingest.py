import io
import json
import zipfile
from hashlib import sha256

import pytest

from core.catalog.ingest import MetadataError, ingest
from tests.fakes import png_bytes, write_catalog


def test_ingest_with_metadata_keeps_extras(lab, tmp_path):
    csv = write_catalog(tmp_path / "imgs", [{"sku": "S1", "title": "Red Shirt", "category": "Apparel"}])
    report = ingest(lab.store, lab.images, [tmp_path / "imgs"], csv)
    assert report.summary() == "1 accepted"
    item = lab.store.items().iloc[0]
    assert (item["sku"], item["title"], item["category"], item["style"]) == ("S1", "Red Shirt", "apparel", "classic")
    assert lab.images.path(item["image_sha256"], item["image_ext"]).exists()
    assert lab.images.thumb_path(item["image_sha256"]).exists()


def test_reingest_same_files_is_duplicate_not_new_rows(stocked_lab, tmp_path):
    csv = write_catalog(tmp_path / "imgs", [{"sku": "A1", "title": "Red Linen Shirt", "category": "apparel",
                                             "style": "minimalist"}])
    report = ingest(stocked_lab.store, stocked_lab.images, [tmp_path / "imgs" / "A1.png"], csv)
    assert [v.status for v in report.verdicts] == ["duplicate"]
    assert stocked_lab.store.item_count() == 6


def test_without_csv_sku_comes_from_file_stem(lab, tmp_path):
    (tmp_path / "blue-mug.png").write_bytes(png_bytes("blue"))
    ingest(lab.store, lab.images, [tmp_path / "blue-mug.png"])
    item = lab.store.items().iloc[0]
    assert (item["sku"], item["title"], item["category"]) == ("blue-mug", "Blue Mug", "uncategorised")


def test_bad_files_are_reported_and_rest_of_batch_lands(lab, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.png").write_bytes(png_bytes())
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_bytes(b"hello, not an image")
    (folder / "cut.png").write_bytes(png_bytes()[:60])
    report = ingest(lab.store, lab.images, [folder])
    reasons = {v.file: v.reason for v in report.verdicts}
    assert report.accepted == 1
    assert "empty file" in reasons["empty.jpg"]
    assert "not a recognised image" in reasons["text.jpg"]
    assert "damaged or truncated" in reasons["cut.png"]
    assert list(lab.store.items()["sku"]) == ["good"]
    assert len(list(lab.images.images_dir.iterdir())) == 1


def test_zip_ingest_rejects_unsafe_paths(lab, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("shirt.png", png_bytes())
        zf.writestr("../../evil.png", png_bytes("blue"))
        zf.writestr("/abs.png", png_bytes("green"))
    report = ingest(lab.store, lab.images, [], uploads=[("batch.zip", buf.getvalue())])
    status = {v.file: v.status for v in report.verdicts}
    assert status["shirt.png"] == "accepted"
    assert status["batch.zip:../../evil.png"] == "rejected"
    assert status["batch.zip:/abs.png"] == "rejected"
    assert not (tmp_path / "evil.png").exists()


def test_csv_problems(lab, tmp_path):
    with pytest.raises(MetadataError, match="missing column"):
        ingest(lab.store, lab.images, [], b"title,category\nx,y\n")
    with pytest.raises(MetadataError, match="not UTF-8"):
        ingest(lab.store, lab.images, [], "sku,image\nCafé,a.png\n".encode("latin-1"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    for n in ("a", "b", "c"):
        (folder / f"{n}.png").write_bytes(png_bytes() + n.encode())
    csv = b"sku,image,title\nOK-1,a.png,=HYPERLINK(\"x\")\n../etc,b.png,x\nOK-1,c.png,dup\n"
    report = ingest(lab.store, lab.images, [folder], csv)
    reasons = {v.file: (v.status, v.reason) for v in report.verdicts}
    assert reasons["a.png"][0] == "accepted"
    assert reasons["b.png"][0] == "rejected" and "'..'" in reasons["b.png"][1]
    assert reasons["c.png"][0] == "rejected" and "twice" in reasons["c.png"][1]
    assert json.loads(lab.store.items().iloc[0]["extra"]) == {}


def test_many_small_uploads_are_compacted_and_keep_every_item(lab, tmp_path, monkeypatch):
    monkeypatch.setattr("core.catalog.store.SMALL_FRAGMENTS_TO_COMPACT", 4)
    names = [f"{colour}-{shape}" for colour in ("red", "blue", "green") for shape in ("square", "circle")]
    for name in names:  # one upload per image, as a merchandiser dropping files one at a time would
        colour, shape = name.split("-")
        (tmp_path / f"{name}.png").write_bytes(png_bytes(colour, shape=shape))
        ingest(lab.store, lab.images, [tmp_path / f"{name}.png"])
    fragments, _ = lab.store.fragment_counts(["items"])["items"]
    assert fragments < len(names)
    assert sorted(lab.store.items()["sku"]) == sorted(names)


def _two_p2_folders(root) -> dict[str, bytes]:
    """folderA/p2.png and folderB/p2.png: same file name, different pictures."""
    images = {"folderA/p2.png": png_bytes("red"), "folderB/p2.png": png_bytes("blue", shape="circle")}
    for rel, data in images.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return images


def _image_of(lab, sku: str) -> str:
    return lab.store.items().set_index("sku").loc[sku, "image_sha256"]


def test_csv_rows_match_images_by_relative_path(lab, tmp_path):
    images = _two_p2_folders(tmp_path / "drop")
    csv = b"sku,image\nSKU-A,folderA/p2.png\nSKU-B,folderB\\p2.png\n"  # a Windows separator is a separator
    report = ingest(lab.store, lab.images, [tmp_path / "drop"], csv)
    assert sorted((v.file, v.status, v.sku) for v in report.verdicts) == [
        ("folderA/p2.png", "accepted", "SKU-A"), ("folderB/p2.png", "accepted", "SKU-B")]
    assert _image_of(lab, "SKU-A") == sha256(images["folderA/p2.png"]).hexdigest()
    assert _image_of(lab, "SKU-B") == sha256(images["folderB/p2.png"]).hexdigest()


@pytest.mark.parametrize("paths", [["folderA", "folderB"], ["folderA/p2.png", "folderB/p2.png"]])
def test_csv_paths_name_the_folder_when_several_are_ingested(lab, tmp_path, paths):
    """`vitrine ingest folderA folderB`: both files are p2.png from their own folder, so the folder name decides."""
    images = _two_p2_folders(tmp_path / "drop")
    csv = b"sku,image\nSKU-A,folderA/p2.png\nSKU-B,drop/folderB/p2.png\n"
    report = ingest(lab.store, lab.images, [tmp_path / "drop" / p for p in paths], csv)
    assert [(v.status, v.sku) for v in report.verdicts] == [("accepted", "SKU-A"), ("accepted", "SKU-B")]
    assert _image_of(lab, "SKU-A") == sha256(images["folderA/p2.png"]).hexdigest()
    assert _image_of(lab, "SKU-B") == sha256(images["folderB/p2.png"]).hexdigest()


def test_csv_rows_match_zip_members_by_path_from_the_zip_root(lab):
    images = {"folderA/p2.png": png_bytes("red"), "folderB/p2.png": png_bytes("blue", shape="circle")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in images.items():
            zf.writestr(rel, data)
    csv = b"sku,image\nSKU-A,./folderA/p2.png\nSKU-B,folderB/p2.png\n"
    report = ingest(lab.store, lab.images, [], csv, uploads=[("drop.zip", buf.getvalue())])
    assert sorted((v.file, v.status, v.sku) for v in report.verdicts) == [
        ("folderA/p2.png", "accepted", "SKU-A"), ("folderB/p2.png", "accepted", "SKU-B")]
    assert _image_of(lab, "SKU-B") == sha256(images["folderB/p2.png"]).hexdigest()


def test_a_path_that_includes_the_ingested_folder_still_matches(lab, tmp_path):
    """sample_catalog/items.csv says images/APP-0001.png while `vitrine sample` ingests the images/ folder."""
    csv = write_catalog(tmp_path / "images", [{"sku": "S1", "title": "Red Shirt", "category": "apparel"}])
    report = ingest(lab.store, lab.images, [tmp_path / "images"], csv.replace(b",S1.png,", b",images/S1.png,"))
    assert [(v.file, v.status) for v in report.verdicts] == [("S1.png", "accepted")]


def test_an_ambiguous_file_name_is_rejected_naming_both_paths(lab, tmp_path):
    _two_p2_folders(tmp_path / "drop")
    report = ingest(lab.store, lab.images, [tmp_path / "drop"], b"sku,image\nSKU-X,p2.png\n")
    reason = ("p2.png in the metadata CSV (SKU SKU-X) matches drop/folderA/p2.png and drop/folderB/p2.png; "
              "write the image's path relative to the folder or zip")
    assert sorted((v.file, v.status, v.reason) for v in report.verdicts) == [
        ("folderA/p2.png", "rejected", reason), ("folderB/p2.png", "rejected", reason)]
    assert lab.store.item_count() == 0


def test_an_uploaded_file_matching_two_csv_paths_is_rejected_naming_both(lab):
    """Browsers upload files without their folders: p2.png alone cannot say which row it is."""
    report = ingest(lab.store, lab.images, [], b"sku,image\nSKU-A,folderA/p2.png\nSKU-B,folderB/p2.png\n",
                    uploads=[("p2.png", png_bytes())])
    assert [(v.file, v.status, v.reason) for v in report.verdicts] == [
        ("p2.png", "rejected", "p2.png matches rows for folderA/p2.png and folderB/p2.png in the metadata CSV; "
                               "ingest its folder or a zip so that its path tells them apart")]
    assert lab.store.item_count() == 0


def test_two_rows_naming_one_image_are_refused_naming_both_skus(lab, tmp_path):
    """The second row used to replace the first, and that SKU vanished without a word."""
    (tmp_path / "shirt.png").write_bytes(png_bytes())
    with pytest.raises(MetadataError, match=r"lines 2 and 3 both name image shirt.png \(SKUs V-RED and V-BLUE\)"):
        ingest(lab.store, lab.images, [tmp_path / "shirt.png"],
               b"sku,image,title\nV-RED,shirt.png,Red\nV-BLUE,./shirt.png,Blue\n")
    assert lab.store.item_count() == 0


def test_blank_padding_rows_are_ignored(lab, tmp_path):
    (tmp_path / "shirt.png").write_bytes(png_bytes())
    report = ingest(lab.store, lab.images, [tmp_path / "shirt.png"], b"sku,image\nS-1,shirt.png\n,\n,\n")
    assert report.summary() == "1 accepted"
