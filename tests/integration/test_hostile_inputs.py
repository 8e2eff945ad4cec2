"""Hostile and broken inputs through the real ingest path into a real LanceDB workspace."""

import pytest
from PIL import Image

from core.catalog.ingest import MetadataError, ingest
from tests import hostile
from tests.fakes import png_bytes


def snapshot(lab) -> tuple[list, list]:
    files = sorted(p.name for d in (lab.images.images_dir, lab.images.thumbs_dir) for p in d.iterdir())
    return lab.store.items().drop(columns=["added_at"]).to_dict("records"), files


def test_every_bad_file_gets_a_specific_reason_and_leaves_no_trace(lab, tmp_path):
    ingest(lab.store, lab.images, [], uploads=[("keep.png", png_bytes("blue"))])
    before = snapshot(lab)
    uploads = [(name, data) for name, (data, _) in hostile.bad_files().items()]
    report = ingest(lab.store, lab.images, [], uploads=uploads + [("good.png", png_bytes("red"))])
    by_file = {v.file: v for v in report.verdicts}
    for name, (_, reason) in hostile.bad_files().items():
        assert by_file[name].status == "rejected", name
        assert reason in by_file[name].reason and name in by_file[name].reason
    assert by_file["good.png"].status == "accepted"
    items, files = snapshot(lab)
    assert [i["sku"] for i in items] == ["good", "keep"]
    assert set(before[1]) < set(files) and len(files) == len(before[1]) + 2  # one image + one thumb


def test_awkward_images_are_normalised_to_rgb(lab):
    report = ingest(lab.store, lab.images, [], uploads=list(hostile.awkward_files().items()))
    assert report.accepted == 5, report.as_rows()
    items = lab.store.items().set_index("sku")
    for sku in ("cmyk", "deep", "palette", "anim", "rotated"):
        with Image.open(lab.images.path(items.loc[sku, "image_sha256"], items.loc[sku, "image_ext"])) as img:
            assert img.mode == "RGB", sku
            if sku == "rotated":
                assert img.size == (30, 60)  # EXIF orientation applied
            if sku == "palette":
                assert img.getpixel((0, 0)) == (255, 255, 255)  # transparent index flattened onto white
                assert img.getpixel((20, 20)) == (200, 0, 0)


def test_zip_slip_and_zip_bomb_are_refused(lab, tmp_path):
    report = ingest(lab.store, lab.images, [], uploads=[("slip.zip", hostile.zip_slip()),
                                                        ("bomb.zip", hostile.zip_bomb())])
    status = {v.file: (v.status, v.reason) for v in report.verdicts}
    assert status["ok.png"][0] == "accepted"
    assert status["slip.zip:../../x.png"] == ("rejected", "slip.zip:../../x.png: unsafe path in archive "
                                                          "(absolute or '..')")
    assert status["slip.zip:/etc/abs.png"][0] == "rejected"
    assert "zip bomb" in status["bomb.zip:bomb.png"][1]
    assert list(lab.store.items()["sku"]) == ["ok"]


@pytest.mark.parametrize("csv, message", [
    (b"title,category\nA,b\n", "missing column(s) sku, image"),
    ("sku,image\nCaf\u00e9,a.png\n".encode("cp1252"), "not UTF-8"),
    (b"sku;image;title\nA-1;a.png;Shirt\n", "this CSV looks semicolon-separated; save it with commas"),
    (b"sku\timage\nA-1\ta.png\n", "this CSV looks tab-separated; save it with commas"),
])
def test_unusable_csv_is_refused_whole_and_nothing_changes(lab, csv, message):
    ingest(lab.store, lab.images, [], uploads=[("keep.png", png_bytes("blue"))])
    before = snapshot(lab)
    with pytest.raises(MetadataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest(lab.store, lab.images, [], csv, uploads=[("a.png", png_bytes("red"))])
    assert snapshot(lab) == before


def test_bad_csv_rows_are_rejected_individually(lab):
    names = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]
    uploads = [(n, png_bytes("red") + n.encode()) for n in names]
    csv = (b"sku,image,title\n"
           b"GOOD-1,a.png,\"=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\"\n"
           b"bad/sku,b.png,x\n"
           b"..,c.png,x\n"
           b"nul\x00sku,d.png,x\n"
           b"GOOD-1,e.png,dup\n")
    report = ingest(lab.store, lab.images, [], csv, uploads=uploads)
    status = {v.file: (v.status, v.reason) for v in report.verdicts}
    assert status["a.png"][0] == "accepted"
    for name in ("b.png", "c.png", "d.png"):
        assert status[name][0] == "rejected" and "'/', '\\', '..' or NUL" in status[name][1]
    assert status["e.png"] == ("rejected", "e.png: SKU GOOD-1 appears twice in this batch")
    assert "no row in the metadata CSV" in status["f.png"][1]
    item = lab.store.items().iloc[0]
    assert item["title"] == '=HYPERLINK("http://x","click")'  # stored verbatim; escaped only on export


def test_one_bad_member_does_not_sink_the_zip(lab):
    report = ingest(lab.store, lab.images, [], uploads=[("batch.zip", hostile.zip_with_broken_members())])
    status = {v.file: (v.status, v.reason) for v in report.verdicts}
    assert status.pop("good.png")[0] == "accepted"
    assert status.pop("sub/good2.png")[0] == "accepted"
    assert status == {
        "batch.zip:crc.png": ("rejected", "batch.zip:crc.png: damaged archive member (Bad CRC-32 for file "
                                          "'crc.png'); zip the file again"),
        "batch.zip:corrupt.png": ("rejected", "batch.zip:corrupt.png: damaged archive member (Error -3 while "
                                              "decompressing data: invalid block type); zip the file again"),
        "batch.zip:locked.png": ("rejected", "batch.zip:locked.png: password-protected member; zip it again "
                                             "without a password"),
        "batch.zip:large.png": ("rejected", "batch.zip:large.png: compressed with Deflate64 (Windows' method "
                                            "for large archives), which Vitrine cannot read; zip it again with "
                                            "standard Deflate (e.g. 7-Zip or `zip -r`)"),
    }
    assert sorted(lab.store.items()["sku"]) == ["good", "good2"]


def test_nested_zips_heic_avif_and_svg_each_get_a_verdict(lab, tmp_path):
    members = {"photo.heic": hostile.heic_bytes(), "photo2.avif": hostile.avif_bytes(), "logo.svg": hostile.SVG,
               "inner.zip": hostile.zip_of({"hidden.png": png_bytes("red")})}
    folder = tmp_path / "drop"
    folder.mkdir()
    for name, data in members.items():
        (folder / name).write_bytes(data)
    zipped = ingest(lab.store, lab.images, [], uploads=[("outer.zip", hostile.zip_of(members))])
    from_folder = ingest(lab.store, lab.images, [folder])
    for report, prefix in ((zipped, "outer.zip:"), (from_folder, "")):
        status = {v.file: (v.status, v.reason) for v in report.verdicts}
        assert status[f"{prefix}logo.svg"] == (
            "rejected", f"{prefix}logo.svg: unsupported format (SVG): convert to JPEG or PNG")
        assert status[f"{prefix}inner.zip"] == (
            "rejected", f"{prefix}inner.zip: an archive inside a folder or zip is not opened; ingest it on its own")
        assert status["photo.heic"][0] in ("accepted", "duplicate"), status
        assert status["photo2.avif"][0] in ("accepted", "duplicate"), status
    items = lab.store.items().set_index("sku")
    assert sorted(items.index) == ["photo", "photo2"]
    with Image.open(lab.images.path(items.loc["photo", "image_sha256"], items.loc["photo", "image_ext"])) as img:
        assert (img.format, img.size) == ("JPEG", (48, 32))
        assert max(abs(a - b) for a, b in zip(img.getpixel((24, 16)), (200, 30, 30), strict=True)) < 12

