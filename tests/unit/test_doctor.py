"""Crash consistency: what a kill -9 leaves behind (items without vectors, a revision without its vector) is found
and repaired by the doctor, without calling any describer."""

import json

import numpy as np
import pytest

from core.catalog.ingest import ingest
from core.describe.revisions import QA_TABLE, REVIEW_SCHEMA
from core.errors import VitrineError
from core.represent.coverage import coverage
from core.represent.representations import METADATA, TITLE, VISUAL, build_metadata
from core.services import qa
from core.services.doctor import repair
from core.services.sync import keep_in_step
from core.services.upkeep import ingest_uploads
from tests.fakes import png_bytes

NEW = [(f"N{i}.png", png_bytes(c) + bytes([i])) for i, c in enumerate(["red", "blue", "green"])]


def _crash_after_items_commit(lab):
    """What a kill between the items commit and the title embedding leaves: items without vectors."""
    assert ingest(lab.store, lab.images, [], uploads=NEW).accepted == len(NEW)


def test_reingest_after_a_crash_says_duplicate_and_leaves_the_index_short(described_lab):
    lab = described_lab.lab
    keep_in_step(lab)
    _crash_after_items_commit(lab)
    report = ingest_uploads(lab, NEW)
    assert report.count("duplicate") == len(NEW)
    assert sorted(coverage(lab, TITLE).missing) == ["N0", "N1", "N2"]  # what the doctor is for


def test_doctor_embeds_items_a_crash_left_without_vectors_and_calls_no_describer(described_lab, fake_describer):
    lab = described_lab.lab
    keep_in_step(lab)
    _crash_after_items_commit(lab)
    calls = len(fake_describer.calls)
    report = repair(lab)
    assert coverage(lab, TITLE).complete and coverage(lab, VISUAL).complete
    assert len(fake_describer.calls) == calls  # never a describer call, paid or not
    lines = "\n".join(report.lines())
    assert "title: embedded 3 missing vector(s)" in lines
    assert "visual: embedded 3 missing vector(s)" in lines
    run = coverage(lab, described_lab.representation)
    assert sorted(run.missing) == ["N0", "N1", "N2"]  # not described yet: left to sync, and said so
    assert f"{described_lab.representation}: 3 item(s) have no description yet" in lines
    assert repair(lab).repaired == []  # a second look finds nothing to do


def test_doctor_reembeds_a_revision_whose_vector_a_crash_left_stale(described_lab):
    lab, rep = described_lab
    row = qa.qa_table(lab).set_index("sku").loc["A1"]
    text = "A human revision whose re-embedding was killed before it ran."
    lab.store.upsert_rows(QA_TABLE, REVIEW_SCHEMA, [{  # a kill -9 between the review write and the vector write
        "key": row["key"], "status": "edited", "reason": "", "edited_text": text, "edited_at": "", "note": "",
        "reviewed_at": "", "revision": "r1", "reviewer": ""}], "key")
    assert coverage(lab, rep).stale == ("A1",)
    report = repair(lab)
    assert f"{rep}: re-embedded 1 stale vector(s)" in report.lines()
    assert coverage(lab, rep).complete
    skus, matrix, _ = lab.store.vectors(lab.store.representation(rep)["table"])
    np.testing.assert_allclose(matrix[skus.index("A1")], lab.encoder.encode([text])[0], atol=1e-6)


def test_saving_the_same_text_again_reembeds_a_stale_vector_instead_of_refusing(described_lab, monkeypatch):
    lab, rep = described_lab
    key = qa.qa_table(lab).set_index("sku").loc["A1", "key"]
    text = "A revision saved just before the process was killed."

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # stands in for the kill between the two writes

    monkeypatch.setattr(lab.store, "put_rows", killed)
    with pytest.raises(KeyboardInterrupt):
        qa.edit(lab, key, text)
    monkeypatch.undo()
    assert coverage(lab, rep).stale == ("A1",)
    assert qa.edit(lab, key, text) == 1  # the same text again: its vector catches up
    assert coverage(lab, rep).complete
    with pytest.raises(VitrineError, match="nothing changed"):
        qa.edit(lab, key, text)


def test_doctor_leaves_a_run_embedded_by_another_encoder_alone_and_says_so(described_lab):
    from core.lab import open_lab

    lab, rep = described_lab
    keep_in_step(lab)
    _crash_after_items_commit(lab)

    class OtherEncoder(type(lab.encoder)):
        name = "another-encoder"

    other = open_lab(lab.workspace, encoder=OtherEncoder())
    report = repair(other)
    assert "title: embedded with hash-bow, not another-encoder, so it is left as it is" in report.lines()
    assert sorted(coverage(lab, TITLE).missing) == ["N0", "N1", "N2"]  # never mixed with another encoder's vectors
    assert coverage(lab, VISUAL).complete  # the visual baseline does not depend on the text encoder


def test_doctor_reembeds_catalogue_attributes_a_crash_left_stale(stocked_lab):
    # an attribute edit committed to the items table, killed before `metadata` followed it
    lab = stocked_lab
    build_metadata(lab)
    item = lab.store.items().iloc[0].to_dict()
    extra = json.loads(item["extra"]) | {"style": "avant-garde"}
    lab.store.upsert_items([item | {"extra": json.dumps(extra)}])
    assert coverage(lab, METADATA).stale == (item["sku"],)
    report = repair(lab)
    assert f"{METADATA}: re-embedded 1 stale vector(s)" in report.lines()
    assert coverage(lab, METADATA).complete
