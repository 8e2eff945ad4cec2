"""Uploads and image replacements keep title and visual in step (real EfficientNet), and `sync` completes the
active description run, asking first before any hosted call."""

import pytest

from core.represent.coverage import coverage
from core.services.sync import ConsentNeeded, plan_sync, sync
from core.services.upkeep import ingest_uploads
from tests.fakes import png_bytes


@pytest.fixture
def synced(described_lab):
    lab, rep = described_lab
    report = sync(lab)
    assert report.described is None and all(c.complete for c in report.coverage)
    return lab, rep


def test_an_upload_enters_title_and_visual_at_once_and_queues_its_description(synced):
    lab, rep = synced
    csv = b"sku,title,category,image\nN1,Green Wool Scarf,accessories,n1.png\n"
    report = ingest_uploads(lab, [("n1.png", png_bytes("green", size=(80, 80)))], csv)
    assert report.accepted == 1
    assert coverage(lab, "title").complete and coverage(lab, "visual").complete
    assert coverage(lab, rep).missing == ("N1",)
    assert plan_sync(lab).to_describe == ["N1"]


def test_replacing_an_image_marks_the_description_stale_until_sync(synced, fake_describer):
    lab, rep = synced
    csv = b"sku,title,category,image\nA1,Red Linen Shirt,apparel,a1-new.png\n"
    report = ingest_uploads(lab, [("a1-new.png", png_bytes("black", size=(72, 72)))], csv)
    assert report.count("updated") == 1
    assert coverage(lab, "visual").complete  # re-embedded from the new image on upload
    assert coverage(lab, rep).stale == ("A1",)
    calls = len(fake_describer.calls)
    done = sync(lab)
    assert len(fake_describer.calls) == calls + 1 and done.described.calls == 1
    assert all(c.complete for c in done.coverage)


def test_sync_asks_before_calling_a_hosted_provider(synced, fake_describer):
    lab, rep = synced
    ingest_uploads(lab, [("n2.png", png_bytes("blue"))], b"sku,title,category,image\nN2,Blue Vase,home,n2.png\n")
    fake_describer.needs_key = True  # as a hosted, keyed API
    calls = len(fake_describer.calls)
    with pytest.raises(ConsentNeeded, match="1 item.*to describe via fake/fake-1: unknown price"):
        sync(lab)
    assert len(fake_describer.calls) == calls  # nothing was sent
    assert sync(lab, allow_hosted=True).coverage[-1].complete
