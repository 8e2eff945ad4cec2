"""The simulated LVLM: ground truth with an accuracy dial, labelled as simulated, following the prompt; and the
accuracy sweep built on it (fakes only: HashEncoder, tmp_path LanceDB)."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.catalog.interactions import from_frame
from core.catalog.store import now_iso
from core.config import SAMPLE_CATALOG_DIR
from core.describe.prompts import PromptVersion
from core.describe.providers.simulated import TRUTH_FACETS
from core.describe.registry import get_describer, provider_class, provider_label
from core.errors import ConfigError, VitrineError
from core.evaluation.sweep import ACCURACIES, BASELINES, read_sweeps, run_sweep, write_sweeps
from core.models import ImageRef
from core.nets.encoders import text_sha
from core.represent.representations import build_metadata, build_title, visual_inputs
from core.runs.prompt import run_prompt

SAMPLE = list(csv.DictReader((SAMPLE_CATALOG_DIR / "items.csv").open(encoding="utf-8")))
PREFERENCE = PromptVersion(name="preference", version=1, template="Describe it for shoppers.",
                           facets=["style", "usage_context", "occasion", "material", "pattern", "colour"], max_words=70)


def refs() -> list[ImageRef]:
    """The sample catalogue's items as a run hands them to a describer (every column in the context)."""
    return [ImageRef(f"sha-{row['sku']}", Path(row["image"]), row) for row in SAMPLE]


def stated(accuracy: float, prompt: PromptVersion = PREFERENCE) -> list[dict[str, list[str]]]:
    describer = get_describer("simulated", accuracy=accuracy)
    return [describer.describe(ref, prompt).attributes.model_dump() for ref in refs()]


def right(accuracy: float) -> set[tuple[str, str]]:
    return {(row["sku"], f) for row, attrs in zip(SAMPLE, stated(accuracy), strict=True) for f in TRUTH_FACETS
            if attrs[f] == [row[f]]}


def test_it_is_registered_and_labelled_as_simulated_never_as_a_model():
    cls = provider_class("simulated")
    assert (cls.needs_key, cls.is_lvlm, cls.supports_batch) == (False, False, False)
    assert provider_label("simulated") == "simulated LVLM (sample ground truth, accuracy p)"
    default = get_describer("simulated")
    assert (default.model, default.label) == ("simulated-p0.75", "simulated LVLM (sample ground truth, accuracy 0.75)")
    assert get_describer("simulated", model="simulated-p0.9").label.endswith("accuracy 0.9)")
    assert get_describer("simulated", model="simulated-p1.0").model == "simulated-p1"  # one run per accuracy


@pytest.mark.parametrize(("options", "message"), [
    ({"model": "gpt-4o-mini"}, r"named simulated-p and the accuracy \(e.g. simulated-p0.75\), not .gpt-4o-mini."),
    ({"accuracy": 1.5}, "between 0 and 1"),
    ({"model": "simulated-p2"}, "between 0 and 1"),
    ({"model": "simulated-p0.5", "accuracy": 0.9}, "says accuracy 0.5 but accuracy 0.9"),
])
def test_a_bad_accuracy_or_model_is_refused_with_the_reason(options, message):
    with pytest.raises(ConfigError, match=message):
        get_describer("simulated", **options)


def test_each_facet_is_right_with_probability_p_and_a_higher_p_only_turns_wrong_facets_right():
    facets = len(SAMPLE) * len(TRUTH_FACETS)
    shares = {p: len(right(p)) / facets for p in ACCURACIES}
    assert shares[0.0] == 0.0 and shares[1.0] == 1.0
    for p in (0.25, 0.5, 0.75, 0.9):
        assert abs(shares[p] - p) < 0.05, shares
    assert right(0.5) <= right(0.75) <= right(0.9)


def test_a_wrong_value_is_another_value_of_the_same_facet_seen_on_that_product_kind():
    vocabulary = {f: {row[f] for row in SAMPLE} for f in TRUTH_FACETS}
    on_kind = {(row["subtype"], f): {r[f] for r in SAMPLE if r["subtype"] == row["subtype"]}
               for row in SAMPLE for f in TRUTH_FACETS}
    for row, attrs in zip(SAMPLE, stated(0.0), strict=True):
        for f in TRUTH_FACETS:
            [value] = attrs[f]
            assert value != row[f] and value in vocabulary[f]
            if len(on_kind[(row["subtype"], f)]) > 1:
                assert value in on_kind[(row["subtype"], f)]  # e.g. no silk sneakers when the kind has none


def test_text_follows_the_prompts_facets_in_order_within_its_word_budget():
    short = PromptVersion(name="short", version=1, template="Two facets, briefly.", facets=["occasion", "colour"],
                          max_words=10)
    describer = get_describer("simulated", accuracy=1.0)
    for ref in refs()[:40]:
        desc = describer.describe(ref, short)
        assert desc.ok and len(desc.text.split()) <= 10
        assert {f for f, v in desc.attributes.model_dump().items() if v} == {"occasion", "colour"}
        full = describer.describe(ref, PREFERENCE).text.lower()
        positions = [full.index(ref.context[f]) for f in ("style", "occasion")]  # style is asked before occasion
        assert positions == sorted(positions)
        assert ref.context["subtype"] in full  # the product kind is named
    budget = PromptVersion(name="tiny", version=1, template="x", facets=list(PREFERENCE.facets), max_words=6)
    assert all(len(describer.describe(ref, budget).text.split()) <= 6 for ref in refs()[:40])


def test_wording_varies_between_items_but_is_seeded():
    one = get_describer("simulated", accuracy=1.0)
    texts = [one.describe(ref, PREFERENCE).text for ref in refs()[:40]]
    assert texts == [get_describer("simulated", accuracy=1.0).describe(ref, PREFERENCE).text for ref in refs()[:40]]
    openings = {" ".join(t.split()[:1]) for t in texts}
    assert len(openings) > 1  # "A …", "This …", "One …", "The … shown"
    twins = [ImageRef(f"sha-{i}", Path("x.png"), SAMPLE[0]) for i in range(12)]  # same truth, other images
    assert len({one.describe(ref, PREFERENCE).text for ref in twins}) > 1


def test_an_item_without_ground_truth_gets_an_error_saying_so():
    desc = get_describer("simulated").describe(ImageRef("sha", Path("x.png"), {"title": "Mystery"}), PREFERENCE)
    assert not desc.ok and desc.text == ""
    assert "simulated LVLM (sample ground truth, accuracy 0.75): the item has no ground truth" in desc.error
    assert "style, material, colour, pattern, occasion" in desc.error
    usage_only = PromptVersion(name="usage", version=1, template="x", facets=["usage_context"])
    assert "no ground truth" in get_describer("simulated").describe(refs()[0], usage_only).error


def test_a_run_describes_what_has_ground_truth_and_records_the_rest_as_failed(stocked_lab):
    stocked_lab.store.upsert_items([{**stocked_lab.store.items().iloc[0][["sku", "title", "category", "image_sha256",
                                                                          "image_ext", "added_at"]].to_dict(),
                                     "extra": "{}"}])  # A1 loses its style column
    report = run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "simulated", model="simulated-p1")
    assert report.representation == "preference@v1/simulated/simulated-p1"
    assert (report.calls, report.failed) == (6, 1)
    assert "no ground truth" in dict(report.errors)[stocked_lab.store.items().iloc[0]["image_sha256"]]
    again = run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "simulated", model="simulated-p1")
    assert again.calls == 0  # cached like any provider's descriptions


STYLES = ("minimalist", "bohemian", "sporty", "glam")


@pytest.fixture
def taste_lab(lab):
    """60 items in four styles with random other facets; visual vectors are noise; 60 shoppers loyal to a style."""
    rng = np.random.default_rng(3)
    rows = []
    for n in range(60):
        extra = {"style": STYLES[n // 15], **{f: str(rng.choice(sorted({r[f] for r in SAMPLE})))
                                              for f in ("material", "colour", "pattern", "occasion")}}
        rows.append({"sku": f"I{n:02d}", "title": f"Item {n}", "category": "apparel", "image_sha256": f"sha{n:02d}",
                     "image_ext": "png", "extra": json.dumps(extra), "added_at": now_iso()})
    lab.store.upsert_items(rows)
    build_title(lab)
    build_metadata(lab)
    inputs = visual_inputs(lab, lab.store.items())
    table = lab.store.register_representation("visual", "visual", 16)
    lab.store.upsert_vectors(table, 16, list(inputs), [sha for sha, _ in inputs.values()],
                             [text_sha(path) for _, path in inputs.values()], rng.normal(size=(60, 16)))
    log = [(f"U{u:02d}", f"I{(u % 4) * 15 + i:02d}", 100 * u + t)
           for u in range(60) for t, i in enumerate(rng.choice(15, size=6, replace=False))]
    return lab, from_frame(pd.DataFrame(log, columns=["shopper_id", "sku", "timestamp"]), "taste log")


def test_the_sweep_compares_every_accuracy_with_every_baseline_in_one_family(taste_lab):
    lab, log = taste_lab
    sweep = run_sweep(lab, log, lab.prompts.get("preference"))
    curve = sweep.curve("ndcg@10").set_index("method")
    assert list(curve.index[:3]) == list(BASELINES) and curve["accuracy"].iloc[:3].isna().all()
    runs = curve[curve["accuracy"].notna()]
    assert list(runs["accuracy"]) == list(ACCURACIES)
    assert runs["mean"].iloc[-1] > runs["mean"].iloc[0]  # style right everywhere vs nowhere
    assert len(sweep.comparisons) == 2 * len(ACCURACIES) * len(BASELINES)
    assert all("across 18 comparisons" in c.sentence for c in sweep.comparisons)
    assert sweep.lowest_beating("visual", "ndcg@10") is not None  # truthful styles beat noise vectors
    assert next(c for c in sweep.comparisons if (c.accuracy, c.baseline, c.metric) == (1.0, "visual", "ndcg@10")
                ).verdict == "a"
    write_sweeps([sweep], lab.workspace.reports_dir)
    assert read_sweeps(lab.workspace.reports_dir) == [sweep]


def test_the_sweep_needs_complete_baselines_and_says_so(stocked_lab):
    build_title(stocked_lab)
    log = from_frame(pd.DataFrame([("U1", "A1", 1), ("U1", "A2", 2)], columns=["shopper_id", "sku", "timestamp"]),
                     "log")
    with pytest.raises(VitrineError, match="no representation named 'visual'"):
        run_sweep(stocked_lab, log, stocked_lab.prompts.get("preference"))
    assert read_sweeps(stocked_lab.workspace.reports_dir) == []
