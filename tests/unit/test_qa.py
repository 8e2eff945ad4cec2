import json
from concurrent.futures import Future

import numpy as np
import pytest

from core.describe.revisions import human_revisions
from core.errors import VitrineError
from core.models import FACETS, Attributes
from core.represent.representations import embed_description_run, run_name
from core.runs.prompt import run_prompt
from core.services import qa
from tests.fakes import png_bytes

FULL = Attributes(**{f: ["something"] for f in FACETS})
GOOD = "A relaxed minimalist linen shirt for warm weekends and casual office days, in a calm plain weave."


@pytest.fixture
def prompt(lab):
    return lab.prompts.get("preference@v1")


@pytest.fixture
def image_colours(tmp_path):
    def colours(colour: str) -> tuple[str, ...]:
        path = tmp_path / f"{colour}.png"
        path.write_bytes(png_bytes(colour))
        return qa.dominant_colour_names(str(path))
    return colours


@pytest.fixture
def described(stocked_lab):
    """The small catalogue described under preference@v1 by the fake provider and embedded."""
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake")
    return stocked_lab


def _row(lab, sku, prompt_ref="preference@v1"):
    table = qa.qa_table(lab)
    return table[(table["sku"] == sku) & (table["prompt_ref"] == prompt_ref)].iloc[0]


def _vector(lab, rep_name, sku):
    skus, matrix, _ = lab.store.vectors(lab.store.representation(rep_name)["table"])
    return matrix[skus.index(sku)]


# --- automatic flags ------------------------------------------------------------------------------

def test_clean_description_has_no_flags(prompt):
    assert qa.auto_flags(GOOD, FULL, prompt, ("red",)) == []


def test_empty_and_short_text_are_flagged(prompt):
    assert qa.auto_flags("", FULL, prompt, ()) == ["empty text"]
    assert qa.auto_flags("  nice shirt  ", FULL, prompt, ()) == ["very short text (2 words)"]


def test_missing_requested_facets_are_flagged(prompt):
    attrs = Attributes(style=["minimalist"], colour=["unknown"])
    flags = qa.auto_flags(GOOD, attrs, prompt, ())
    assert flags == ["missing facets: usage_context, occasion, material, pattern, colour"]
    appearance = Attributes(colour=["red"], pattern=["plain"], material=["linen"])  # asks for 3 facets only
    assert qa.auto_flags(GOOD, appearance, prompt.model_copy(update={"facets": ["colour", "pattern",
                                                                                "material"]}), ()) == []


@pytest.mark.parametrize("text", ["I'm sorry, but I can't describe people in images.",
                                  "As an AI model I am unable to see this product clearly today."])
def test_refusals_are_flagged(prompt, text):
    flags = qa.auto_flags(text, FULL, prompt, ())
    assert len(flags) == 1 and flags[0].startswith("refusal text:")


def test_curly_apostrophe_refusal_is_flagged(prompt):
    assert qa.auto_flags("I\u2019m sorry, this request is not something I will do.", FULL, prompt, ())


def test_dominant_colour_of_a_red_square_on_white_is_red(image_colours):
    assert image_colours("red")[0] == "red"
    assert image_colours("blue")[0] == "blue"


def test_colour_contradiction_is_flagged(prompt, image_colours):
    flags = qa.auto_flags("A bold blue linen shirt for sunny weekends and relaxed dinners.", FULL, prompt,
                          image_colours("red"))
    assert len(flags) == 1 and flags[0].startswith("colour contradiction: text says blue; image looks red (ΔE2000 ")


@pytest.mark.parametrize(("text", "colour"), [
    ("A crisp navy linen shirt for the office and smart dinners.", "blue"),
    ("A deep burgundy tote for evenings out with friends.", "red"),
    ("A jet black leather tote with a cream lining for commuting.", "black"),
    ("A simple shirt with no colour words at all, for every day.", "green"),
])
def test_near_neighbour_colours_are_not_flagged(prompt, image_colours, text, colour):
    assert qa.auto_flags(text, FULL, prompt, image_colours(colour)) == []


def _no_analysis(path):
    raise AssertionError(f"{path} analysed again")


def test_image_colours_are_analysed_once_per_workspace(described, monkeypatch):
    """The colour check reads stored colours on later builds (and in a new server) instead of decoding images."""
    first = qa.qa_table(described)
    stored = described.store.frame(qa.COLOURS_TABLE, qa.COLOURS_SCHEMA)
    colours = json.loads(stored.set_index("image_sha256").loc[_row(described, "A1")["image_sha256"], "colours"])
    assert "Red" in [name for name, _, _ in colours]
    qa.dominant_image_colours.cache_clear()
    monkeypatch.setattr(qa, "dominant_image_colours", _no_analysis)
    assert qa.qa_table(described)["auto_flags"].tolist() == first["auto_flags"].tolist()


def test_warm_colours_analyses_described_images_in_a_worker(described, monkeypatch):
    future = qa.warm_colours(described)
    assert future is not None and len(future.result()) == described.store.items()["image_sha256"].nunique()
    assert qa.warm_colours(described) is None  # nothing left to analyse
    monkeypatch.setattr(qa, "dominant_image_colours", _no_analysis)
    assert _row(described, "A1")["text"]  # the build reads what the worker stored


def test_rows_skip_the_colour_check_only_while_a_worker_is_analysing(described, monkeypatch):
    """The page does not wait for the warm-up worker: unanalysed images go unchecked until it has finished."""
    qa.edit(described, _row(described, "A1")["key"], "A bright blue linen shirt for sunny weekends and dinners.")
    described.store.db.drop_table(qa.COLOURS_TABLE)  # as in a new workspace: no image analysed yet
    worker = Future()  # a warm-up still under way
    monkeypatch.setitem(qa._PENDING, described.store.uri, worker)

    def colour_flags():
        row = qa.qa_table(described, wait_for_colours=False).query("sku == 'A1' and prompt_ref == 'preference@v1'")
        return [f for f in row["auto_flags"].iloc[0] if f.startswith("colour contradiction")]

    assert colour_flags() == [] and qa.colours_pending(described)
    worker.set_result({})
    assert [f.split(" (")[0] for f in colour_flags()] == ["colour contradiction: text says blue; image looks red"]
    assert not qa.colours_pending(described)


def test_unreadable_image_skips_the_colour_check(tmp_path, prompt):
    assert qa.dominant_colour_names(str(tmp_path / "missing.png")) == ()
    assert qa.auto_flags("A blue shirt for long summer days.", FULL, prompt, ()) == []


# --- table, reviews and filters -------------------------------------------------------------------

def test_qa_table_joins_items_descriptions_and_flags(described):
    described.describer_overrides["fake"].queue.extend([("nope", {})])
    run_prompt(described, described.prompts.get("appearance@v1"), "fake")
    table = qa.qa_table(described)
    assert len(table) == 12  # 6 items x 2 prompt versions
    assert set(qa.COLUMNS) <= set(table.columns)
    row = _row(described, "A1")
    assert row["text"] == row["original_text"] == "Red Linen Shirt apparel for preference"
    assert row["attributes"]["style"] == ["minimalist"] and row["status"] == ""
    assert row["auto_flags"] == ["missing facets: usage_context, occasion, material, pattern, colour"]
    assert qa.with_thumbnails(described, table.head(1))["thumbnail"].iloc[0].startswith("data:image/jpeg;base64,")
    assert len(qa.qa_table(described, prompt_ref="appearance@v1", category="bags")) == 2
    assert len(qa.qa_table(described, provider="other")) == 0
    short = qa.qa_table(described, prompt_ref="appearance@v1")
    assert sum("very short text (1 word)" in f for f in short["auto_flags"]) == 1


def test_approve_flag_and_status_filters(described):
    key = _row(described, "A1")["key"]
    assert qa.approve(described, key)["status"] == "approved"
    other = _row(described, "B1")["key"]
    with pytest.raises(VitrineError, match="reason"):
        qa.flag(described, other, "   ")
    qa.flag(described, other, "wrong material")
    approved = qa.qa_table(described, status="approved")
    flagged = qa.qa_table(described, status="flagged")
    assert approved["sku"].tolist() == ["A1"]
    assert flagged["sku"].tolist() == ["B1"] and flagged.iloc[0]["reason"] == "wrong material"
    assert len(qa.qa_table(described, status="unreviewed")) == 4
    assert len(qa.qa_table(described, status="auto-flagged")) == 6  # the fake only fills `style`
    with pytest.raises(VitrineError, match="unknown status"):
        qa.qa_table(described, status="maybe")
    with pytest.raises(VitrineError, match="no description"):
        qa.approve(described, "nope")


def test_edit_keeps_original_and_reembeds(described):
    prompt = described.prompts.get("preference@v1")
    rep = run_name(prompt, "fake", "fake-1")
    row = _row(described, "A1")
    before = _vector(described, rep, "A1")
    new_text = "Relaxed summer linen shirt in a warm red, for beach weekends and garden parties."
    assert qa.edit(described, row["key"], new_text) == 1
    after = _vector(described, rep, "A1")
    assert float(before @ after) < 0.99
    np.testing.assert_allclose(after, described.encoder.encode([new_text])[0], atol=1e-6)
    stored = described.store.descriptions(prompt_hash=prompt.hash, provider="fake")
    assert row["original_text"] in stored["text"].tolist()  # the model's row is untouched
    edited = _row(described, "A1")
    assert (edited["text"], edited["original_text"], edited["status"]) == (new_text, row["original_text"], "edited")
    assert qa.qa_table(described, status="edited")["sku"].tolist() == ["A1"]
    assert human_revisions(described.store) == {row["key"]: new_text}
    assert _vector(described, rep, "A2") @ described.encoder.encode([new_text])[0] < 0.99  # others untouched
    with pytest.raises(VitrineError, match="nothing changed"):
        qa.edit(described, row["key"], new_text + "  ")
    with pytest.raises(VitrineError, match="empty"):
        qa.edit(described, row["key"], "  ")
    qa.approve(described, row["key"])
    assert _row(described, "A1")["text"] == new_text  # approving keeps the revision current


def test_later_embedding_sync_keeps_the_human_revision(described):
    prompt = described.prompts.get("preference@v1")
    key = _row(described, "A1")["key"]
    new_text = "Hand-edited: a breezy red linen shirt for seaside holidays."
    qa.edit(described, key, new_text)
    embed_description_run(described, prompt, "fake", "fake-1")
    after = _vector(described, run_name(prompt, "fake", "fake-1"), "A1")
    np.testing.assert_allclose(after, described.encoder.encode([new_text])[0], atol=1e-6)


def test_regenerate_describes_one_item_and_reuses_cache(described, fake_describer):
    calls = len(fake_describer.calls)
    report = qa.regenerate(described, "H1", "appearance@v1", "fake")
    assert (report.calls, report.cached) == (1, 0) and len(fake_describer.calls) == calls + 1
    assert report.representation == "appearance@v1/fake/fake-1"
    assert "H1" in described.store.vectors(described.store.representation(report.representation)["table"])[0]
    assert qa.regenerate(described, "H1", "appearance@v1", "fake").cached == 1  # ok cached: returned as-is
    with pytest.raises(VitrineError, match="unknown SKU"):
        qa.regenerate(described, "ZZ", "appearance@v1", "fake")


def test_regenerate_retries_an_errored_description_only_when_asked(described, fake_describer):
    fake_describer.queue.append(RuntimeError("rate limited"))
    assert qa.regenerate(described, "A3", "appearance@v1", "fake").failed == 1
    assert qa.regenerate(described, "A3", "appearance@v1", "fake").calls == 0
    report = qa.regenerate(described, "A3", "appearance@v1", "fake", retry_failed=True)
    assert (report.calls, report.failed) == (1, 0)
    assert _row(described, "A3", "appearance@v1")["error"] == ""


def test_retry_failed_redescribes_only_failed_items(stocked_lab, fake_describer):
    prompt = stocked_lab.prompts.get("preference@v1")
    fake_describer.queue.append(RuntimeError("timeout"))
    run_prompt(stocked_lab, prompt, "fake", concurrency=1)
    table = qa.qa_table(stocked_lab)
    failed = qa.qa_table(stocked_lab, status="failed")
    assert len(failed) == 1 and "timeout" in failed.iloc[0]["error"]
    assert qa.failed_runs(table).to_dict("records") == [
        {"prompt_ref": "preference@v1", "provider": "fake", "model": "fake-1", "failed": 1}]
    report = qa.retry_failed(stocked_lab, "preference@v1", "fake", "fake-1")
    assert (report.calls, report.failed) == (1, 0)
    assert qa.qa_table(stocked_lab, status="failed").empty
    key = failed.iloc[0]["key"]  # the retry replaced the failed row under the same key
    assert qa.approve(stocked_lab, key)["status"] == "approved"
    with pytest.raises(VitrineError, match="no failed items"):
        qa.retry_failed(stocked_lab, "preference@v1", "fake", "fake-1")


def test_failed_descriptions_cannot_be_approved_or_edited(stocked_lab, fake_describer):
    fake_describer.queue.append(RuntimeError("boom"))
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", skus=["A1"])
    key = _row(stocked_lab, "A1")["key"]
    for action in (lambda: qa.approve(stocked_lab, key), lambda: qa.edit(stocked_lab, key, "new text here")):
        with pytest.raises(VitrineError, match="failed"):
            action()
    assert qa.flag(stocked_lab, key, "provider keeps failing")["status"] == "flagged"


def test_attribute_text_and_provider_choices(lab):
    assert qa.attribute_text({"style": ["a", "b"], "colour": [], "pattern": ["plain"]}) == \
        "style: a, b; pattern: plain"
    assert {"fake", "offline"} <= set(qa.provider_choices(lab))


def test_qa_table_checks_each_text_against_its_own_item(stocked_lab, fake_describer):
    """One backpack text for every item: wrong type and material for most, and shared by six different titles."""
    attributes = {"colour": ["navy"], "pattern": ["plain"], "material": ["polyester"]}
    fake_describer.queue.extend([("A practical backpack for commutes; typically durable polyester.", attributes)] * 6)
    run_prompt(stocked_lab, stocked_lab.prompts.get("appearance@v1"), "fake")
    flags = qa.qa_table(stocked_lab).set_index("sku")["auto_flags"]
    assert flags["B1"] == ["type contradiction: text says backpack; title says tote",
                           "material contradiction: text says polyester; item says leather",
                           "shared text: the same text describes 6 differently titled items"]
    assert "type contradiction: text says backpack; title says vase" in flags["H1"]


# --- two reviewers, one description (optimistic concurrency) --------------------------------------

def test_second_reviewer_saving_over_an_unseen_edit_gets_a_conflict_and_both_texts_survive(described):
    from core.lab import open_lab
    from core.nets.encoders import HashEncoder

    other = open_lab(described.workspace, encoder=HashEncoder(), describers=described.describer_overrides)
    row = _row(described, "A1")  # both reviewers open the same description
    seen = row["revision"]
    assert _row(other, "A1")["revision"] == seen
    first = "Ana's text: a breezy red linen shirt for seaside weekends."
    qa.edit(described, row["key"], first, revision=seen, reviewer="Ana")
    second = "Ben's text: a crisp red shirt in linen for summer offices."
    with pytest.raises(qa.ReviewConflict) as err:
        qa.edit(other, row["key"], second, revision=seen, reviewer="Ben")
    message = str(err.value)
    assert "Ana" in message and "edited" in message and "not saved" in message
    assert (err.value.theirs, err.value.yours) == (first, second)
    assert _row(other, "A1")["text"] == first  # the other reviewer's text stays
    fresh = _row(other, "A1")["revision"]
    assert fresh != seen
    qa.edit(other, row["key"], second, revision=fresh, reviewer="Ben")  # having seen it, Ben may replace it
    assert _row(described, "A1")["text"] == second


def test_approving_or_flagging_a_text_you_did_not_see_is_a_conflict(described):
    row = _row(described, "B1")
    qa.edit(described, row["key"], "Someone else's rewrite of the black leather tote.", reviewer="Ana")
    for action in (lambda: qa.approve(described, row["key"], revision=row["revision"]),
                   lambda: qa.flag(described, row["key"], "too short", revision=row["revision"])):
        with pytest.raises(qa.ReviewConflict, match="Ana"):
            action()
    assert _row(described, "B1")["status"] == "edited"
    assert qa.approve(described, row["key"], revision=_row(described, "B1")["revision"])["status"] == "approved"


def test_racing_saves_from_the_same_version_let_exactly_one_through(described):
    from concurrent.futures import ThreadPoolExecutor

    from core.lab import open_lab
    from core.nets.encoders import HashEncoder

    row = _row(described, "H1")
    labs = [open_lab(described.workspace, encoder=HashEncoder()) for _ in range(4)]

    def save(i: int) -> str:
        try:
            qa.edit(labs[i], row["key"], f"Reviewer {i} rewrote the blue ceramic vase text.",
                    revision=row["revision"], reviewer=f"R{i}")
        except qa.ReviewConflict:
            return "conflict"
        return "saved"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(save, range(4)))
    assert sorted(outcomes) == ["conflict"] * 3 + ["saved"]
    winner = outcomes.index("saved")
    assert _row(described, "H1")["text"] == f"Reviewer {winner} rewrote the blue ceramic vase text."


# --- undo of a replaced description ---------------------------------------------------------------

def test_undo_an_edit_brings_back_the_previous_text_and_vector(described):
    from core.catalog.journal import last_entry, undo

    rep = run_name(described.prompts.get("preference@v1"), "fake", "fake-1")
    row = _row(described, "A1")
    before = _vector(described, rep, "A1")
    qa.edit(described, row["key"], "First revision of the red linen shirt text.")
    qa.edit(described, row["key"], "Second revision of the red linen shirt text.")
    assert last_entry(described.store).brings_back == f"the previous text of A1 ({rep}) and its vector(s)"
    undo(described.store)
    assert _row(described, "A1")["text"] == "First revision of the red linen shirt text."
    report = undo(described.store)
    assert report.restored == {"qa_reviews": [row["key"]], rep: ["A1"]}
    restored = _row(described, "A1")
    assert (restored["text"], restored["status"]) == (row["original_text"], "")
    np.testing.assert_array_equal(_vector(described, rep, "A1"), before)


def test_undoing_an_edit_keeps_a_later_edit_by_someone_else(described):
    from core.catalog.journal import undo

    row = _row(described, "B2")
    qa.edit(described, row["key"], "Ana's revision of the red leather tote.", reviewer="Ana")
    entry_text = _row(described, "B2")
    qa.approve(described, row["key"], revision=entry_text["revision"], reviewer="Ben")  # a later change
    report = undo(described.store, "edit")
    assert report.kept == {"qa_reviews": [row["key"]]}
    assert _row(described, "B2")["status"] == "approved"
