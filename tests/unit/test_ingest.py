import io
import json
import zipfile

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
