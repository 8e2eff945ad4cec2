import numpy as np
import pandas as pd
import pytest

from core.catalog.interactions import load_interactions
from core.describe.prompts import PromptError
from core.describe.providers.simulated import label as simulated_label
from core.errors import ConfigError, VitrineError
from core.evaluation.protocol import evaluate
from core.models import FACETS
from core.represent.coverage import coverage
from core.runs.prompt import run_prompt
from core.services.ab import (
    RECALL_CAVEAT,
    SideSpec,
    compare,
    complete_sides,
    promote,
    promotion_plan,
    provider_choices,
    recall_at_k,
    recall_plans,
    resolve_side,
    run_ab,
    sample_items,
)
from core.services.votes import ab_id, left_side, record_vote, vote_choices, votes, win_rate

# --- sampling -------------------------------------------------------------------------------

CATALOGUE = pd.DataFrame({
    "sku": [f"S{i:03d}" for i in range(100)],
    "category": ["shoes"] * 50 + ["bags"] * 20 + ["home"] * 15 + ["toys"] * 10 + ["lamps"] * 5,
})


def test_random_sample_is_deterministic_per_seed_and_ignores_input_order():
    first = sample_items(CATALOGUE, 10, "random", seed=7)
    again = sample_items(CATALOGUE.sample(frac=1, random_state=1), 10, "random", seed=7)
    assert len(first) == 10 and first["sku"].is_unique
    assert first["sku"].tolist() == again["sku"].tolist()
    assert set(first["sku"]) <= set(CATALOGUE["sku"])
    assert len({tuple(sample_items(CATALOGUE, 10, "random", seed=s)["sku"]) for s in range(5)}) > 1


@pytest.mark.parametrize("n", [5, 6, 12, 40])
def test_stratified_sample_covers_every_category(n):
    sample = sample_items(CATALOGUE, n, "stratified", seed=3)
    assert len(sample) == n and sample["sku"].is_unique
    assert set(sample["category"]) == set(CATALOGUE["category"])
    assert sample["sku"].tolist() == sample_items(CATALOGUE, n, "stratified", seed=3)["sku"].tolist()


def test_stratified_sample_is_proportional_beyond_one_per_category():
    counts = sample_items(CATALOGUE, 20, "stratified", seed=0)["category"].value_counts().to_dict()
    # sizes 50/20/15/10/5 of 100: one each, then highest averages lands on the exact proportions
    assert counts == {"shoes": 10, "bags": 4, "home": 3, "toys": 2, "lamps": 1}
    small = sample_items(CATALOGUE, 7, "stratified", seed=0)["category"].value_counts().to_dict()
    assert small == {"shoes": 3, "bags": 1, "home": 1, "toys": 1, "lamps": 1}


def test_sample_larger_than_catalogue_returns_everything():
    assert len(sample_items(CATALOGUE, 500, "stratified", seed=0)) == 100


@pytest.mark.parametrize(("items", "n", "strategy", "message"), [
    (CATALOGUE, 4, "stratified", "5 categories but N = 4"),
    (CATALOGUE, 0, "random", "at least 1"),
    (CATALOGUE, 5, "alphabetical", "unknown sampling strategy"),
    (CATALOGUE.head(0), 5, "random", "catalogue is empty"),
])
def test_bad_sample_requests_say_what_is_wrong(items, n, strategy, message):
    with pytest.raises(VitrineError, match=message):
        sample_items(items, n, strategy, seed=0)


# --- votes ----------------------------------------------------------------------------------

def test_win_rate_matches_hand_computed_wilson_interval():
    # 8 B wins of 10 decisive votes: p = .8, z = 1.96 -> centre .71673, half-width .22658
    rate = win_rate(["b"] * 8 + ["a"] * 2 + ["tie"] * 3)
    assert (rate.n, rate.wins_a, rate.wins_b, rate.ties) == (13, 2, 8, 3)
    assert rate.rate_b == pytest.approx(0.8)
    assert (rate.ci_low, rate.ci_high) == (pytest.approx(0.4902, abs=5e-4), pytest.approx(0.9433, abs=5e-4))
    even = win_rate(["a", "b"] * 5)
    assert (even.ci_low, even.ci_high) == (pytest.approx(0.2366, abs=5e-4), pytest.approx(0.7634, abs=5e-4))
    none = win_rate(["a"] * 10)  # p = 0: the interval starts at 0 instead of going negative
    assert (none.rate_b, none.ci_low, none.ci_high) == (0.0, pytest.approx(0.0), pytest.approx(0.2775, abs=5e-4))


def test_win_rate_without_decisive_votes_has_no_rate():
    rate = win_rate(["tie", "tie"])
    assert (rate.n, rate.ties, rate.rate_b, rate.ci_low, rate.ci_high) == (2, 2, None, None, None)
    with pytest.raises(VitrineError, match="unknown vote winner"):
        win_rate(["a", "left"])


def test_blind_order_is_stable_and_mixes_sides():
    comparison = ab_id("p@v1/fake/fake-1", "p@v2/fake/fake-1")
    sides = [left_side(4, comparison, f"S{i}") for i in range(40)]
    assert sides == [left_side(4, comparison, f"S{i}") for i in range(40)]
    assert {"a", "b"} == set(sides)
    assert sides != [left_side(5, comparison, f"S{i}") for i in range(40)]
    assert ab_id("x", "y") != ab_id("y", "x")  # B's win rate over A depends on which side is which


def test_votes_map_left_right_to_sides_and_a_revote_replaces(lab):
    record_vote(lab, "run-a", "run-b", "A1", "left", left="b")
    record_vote(lab, "run-a", "run-b", "A2", "right", left="b")
    record_vote(lab, "run-a", "run-b", "A3", "tie", left="a")
    record_vote(lab, "run-a", "other", "A1", "left", left="a")
    stored = votes(lab, ab_id("run-a", "run-b")).set_index("sku")
    assert stored["winner"].to_dict() == {"A1": "b", "A2": "a", "A3": "tie"}
    assert stored.loc["A1", "left"] == "b"
    record_vote(lab, "run-a", "run-b", "A1", "right", left="b")
    stored = votes(lab, ab_id("run-a", "run-b")).set_index("sku")
    assert len(stored) == 3 and stored.loc["A1", "winner"] == "a"
    assert vote_choices(lab, ab_id("run-a", "run-b")) == {"A1": "right", "A2": "right", "A3": "tie"}
    with pytest.raises(VitrineError, match="unknown vote"):
        record_vote(lab, "run-a", "run-b", "A1", "both", left="a")


# --- running and comparing ------------------------------------------------------------------

def test_ab_run_uses_the_cached_run_path_and_compares(stocked_lab, fake_describer):
    items = stocked_lab.store.items()
    spec_a, spec_b = SideSpec("preference@v1", "fake"), SideSpec("appearance@v1", "fake")
    fake_describer.queue.extend([("Ten words " * 5, {"style": ["classic"]})] * 6)
    steps = []
    run = run_ab(stocked_lab, items, spec_a, spec_b, concurrency=1, progress=lambda d, t, _: steps.append((d, t)))
    assert len(fake_describer.calls) == 12
    assert steps[-1] == (12, 12) and [d for d, _ in steps] == sorted(d for d, _ in steps)
    assert run.side_a.run == "preference@v1/fake/fake-1" and run.side_b.run == "appearance@v1/fake/fake-1"
    again = run_ab(stocked_lab, items, spec_a, spec_b)
    assert len(fake_describer.calls) == 12 and again.reports[0].cached == 6  # nothing is paid twice

    result = compare(stocked_lab, items, run.side_a, run.side_b)
    assert result.ab_id == run.ab_id
    assert result.a.mean_words == 10 and result.a.errors == 0
    assert result.a.coverage["style"] == 1.0 and result.a.coverage["colour"] == 0.0
    assert result.b.coverage["style"] is None  # appearance does not ask for style
    assert result.a.cost_per_1000_usd == pytest.approx(1.0) and result.a.cost_label == "$1.00"
    assert result.rows["text_b"].str.endswith("for appearance").all()
    assert result.rows["attributes_a"].eq("style: classic").all()
    assert result.rows["cosine"].between(-1, 1).all() and result.mean_cosine is not None
    table = result.metrics_table()
    assert table["side"].tolist() == ["A", "B"] and {f"coverage: {f}" for f in FACETS} <= set(table.columns)


def test_identical_sides_have_cosine_one_and_errors_count(stocked_lab, fake_describer):
    items = stocked_lab.store.items()
    fake_describer.queue.append(RuntimeError("provider exploded"))
    spec = SideSpec("preference", "fake")
    run = run_ab(stocked_lab, items, spec, spec, concurrency=1)
    result = compare(stocked_lab, items, run.side_a, run.side_b)
    assert result.a.errors == result.b.errors == 1
    assert result.a.coverage["style"] == pytest.approx(5 / 6)
    assert result.rows["cosine"].isna().sum() == 1
    assert result.mean_cosine == pytest.approx(1.0)


def test_unavailable_provider_fails_before_any_work(stocked_lab, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    offline = next(c for c in provider_choices(stocked_lab) if c.name == "offline")
    assert "not an LVLM" in offline.label and not offline.configurable
    assert next(c for c in provider_choices(stocked_lab) if c.name == "openai").configurable
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run_ab(stocked_lab, stocked_lab.store.items(), SideSpec("preference", "fake"),
               SideSpec("preference", "openai", model="gpt-4o-mini"))
    with pytest.raises(ConfigError, match="unknown provider"):
        resolve_side(stocked_lab, SideSpec("preference", "nope"))
    assert stocked_lab.store.descriptions().empty


# --- recall ---------------------------------------------------------------------------------

TOY = {  # 2-d vectors: in toy1 B1 is closest to the A1+A2 profile, in toy2 B2 is; toy2 has no H1
    "toy1": {"A1": (1, 0), "A2": (1, 0.1), "B1": (0.9, 0.3), "B2": (0, 1), "A3": (0, -1), "H1": (-1, 0)},
    "toy2": {"A1": (1, 0), "A2": (1, 0.1), "B1": (0, 1), "B2": (0.9, 0.3), "A3": (0, -1)},
}
TOY_LOG = [  # (shopper, sku, day): S1 and S6 are evaluated, the others are filtered for a reason each
    ("S1", "B1", 3), ("S1", "A1", 1), ("S1", "A2", 2),  # rows out of time order: B1 is the held-out item
    ("S2", "B1", 1),  # one interaction
    ("S3", "A1", 1), ("S3", "A1", 2),  # a repeat, leaving one
    ("S4", "A3", 1), ("S4", "H1", 2),  # H1 is outside the pool, leaving one
    ("S6", "A3", 1), ("S6", "A1", 2),  # A1 is nearest to A3's profile in both
]


def _toy_lab(lab):
    for name, vectors in TOY.items():
        table = lab.store.register_representation(name, "description", 2)
        skus = list(vectors)
        lab.store.upsert_vectors(table, 2, skus, skus, skus, np.array([vectors[s] for s in skus], np.float32))
    lab.workspace.interactions_csv.write_text("shopper_id,sku,timestamp\n" + "".join(
        f"{shopper},{sku},2026-01-0{day}T10:00:00Z\n" for shopper, sku, day in TOY_LOG))
    return lab


TINY_FLOORS = {"min_pool_items": 5, "min_shoppers": 2}  # a 6-SKU fixture, lowered explicitly


def test_recall_is_the_evaluation_protocol_on_the_shared_pool(lab):
    result = recall_at_k(_toy_lab(lab), ["toy1", "toy2"], k=1, **TINY_FLOORS)
    assert (result["k"], result["pool"], result["users"], result["seed"]) == (1, 5, 2, 0)  # no H1 in toy2
    toy1, toy2 = result["recall"]["toy1"], result["recall"]["toy2"]
    assert (toy1.mean, toy1.lo, toy1.hi, toy1.n) == (1.0, 1.0, 1.0, 2)  # B1 first for S1, A1 first for S6
    assert toy2.mean == 0.5 and (toy2.lo, toy2.hi) == (0.0, 1.0) and toy2.n == 2  # S1's B1 is second in toy2
    report = result["filter"]
    assert (report.interactions_in, report.shoppers_in, report.outside_pool, report.repeats) == (10, 5, 1, 1)
    assert (report.min_interactions, report.shoppers_too_short, report.shoppers_evaluated) == (2, 3, 2)
    assert result["caveat"] == RECALL_CAVEAT and "Evaluation page" in RECALL_CAVEAT

    direct = evaluate(lab, load_interactions(lab.workspace), representations=["toy1", "toy2"], ks=(1,), seed=0,
                      min_interactions=2, **TINY_FLOORS)
    assert result["recall"] == {m: direct.estimate(m, "recall@1") for m in ("toy1", "toy2")}
    assert result["filter"] == direct.filter and result["pool"] == direct.pool_size

    at2 = recall_at_k(lab, ["toy1", "toy2", "toy1"], k=2, **TINY_FLOORS)["recall"]
    assert list(at2) == ["toy1", "toy2"] and at2["toy1"].mean == at2["toy2"].mean == 1.0


def test_recall_needs_a_readable_interactions_file(lab):
    _toy_lab(lab)
    lab.workspace.interactions_csv.write_text("shopper,sku\nS1,A1\n")
    with pytest.raises(VitrineError, match="missing column.*shopper_id, timestamp"):
        recall_at_k(lab, ["toy1"])
    lab.workspace.interactions_csv.write_text("shopper_id,sku,timestamp\nS1,A1,yesterday\n")
    with pytest.raises(VitrineError, match="timestamp 'yesterday' at data row 1"):
        recall_at_k(lab, ["toy1"])
    lab.workspace.interactions_csv.write_text("shopper_id,sku,timestamp\nS1,A1,1\nS1,A2,2\n")
    with pytest.raises(VitrineError, match="pick at least one representation"):
        recall_at_k(lab, [])
    with pytest.raises(VitrineError, match="cut-offs K must be positive"):
        recall_at_k(lab, ["toy1"], k=0)
    lab.workspace.interactions_csv.unlink()
    with pytest.raises(VitrineError, match="no interactions at"):
        recall_at_k(lab, ["toy1"])


# --- promotion ------------------------------------------------------------------------------

def test_promote_sets_the_active_prompt_and_provider(lab):
    prompt = promote(lab, "appearance", "fake", "fake-1")
    assert prompt.ref == "appearance@v1"
    assert (lab.store.get_setting("active_prompt"), lab.active_provider()) == ("appearance@v1", ("fake", "fake-1"))
    with pytest.raises(PromptError, match="no version 9"):
        promote(lab, "preference@v9", "fake")
    with pytest.raises(ConfigError, match="unknown provider"):
        promote(lab, "preference", "nope")
    assert lab.active_prompt().ref == "appearance@v1"


def test_promoting_a_sample_run_describes_the_rest_before_it_becomes_active(stocked_lab, fake_describer):
    """Observed: promoting a 12-item A/B winner narrowed search and recommendations to those 12 items."""
    prompt = stocked_lab.prompts.get("appearance@v1")
    run_prompt(stocked_lab, prompt, "fake", skus=["A1", "A2"])  # the A/B sample
    plan = promotion_plan(stocked_lab, "appearance@v1", "fake", "fake-1")
    assert sorted(plan.to_describe) == ["A3", "B1", "B2", "H1"]
    calls = len(fake_describer.calls)
    promote(stocked_lab, "appearance@v1", "fake", "fake-1")
    assert len(fake_describer.calls) == calls + 4  # only the rest: the sample is not paid for twice
    assert coverage(stocked_lab, "appearance@v1/fake/fake-1").complete
    assert stocked_lab.active_prompt().ref == "appearance@v1"


def test_a_run_that_cannot_cover_the_catalogue_is_not_promoted(stocked_lab, fake_describer):
    fake_describer.queue.append(RuntimeError("server hung up"))
    with pytest.raises(VitrineError, match=r"covers 5 of 6 items.*preference@v1 via offline/default stays active"):
        promote(stocked_lab, "appearance@v1", "fake", "fake-1")
    assert (stocked_lab.active_prompt().ref, stocked_lab.active_provider()[0]) == ("preference@v1", "offline")


def test_identical_sides_from_the_tagger_are_explained_before_any_vote(stocked_lab, fake_describer):
    """Observed: an A/B of two wording-only template edits on the offline tagger asked for blind votes on identical
    text without a word."""
    v1 = stocked_lab.prompts.get("preference@v1")
    v2 = stocked_lab.prompts.save("preference", v1.template + "\nMention the season.", variables=v1.variables,
                                  facets=v1.facets, max_words=v1.max_words)
    fake_describer.is_lvlm = False  # stands in for the offline tagger, which ignores free text
    run = run_ab(stocked_lab, stocked_lab.store.items(), SideSpec(v1.ref, "fake"), SideSpec(v2.ref, "fake"))
    result = compare(stocked_lab, stocked_lab.store.items(), run.side_a, run.side_b)
    assert result.identical == 6
    assert result.identical_note.startswith("6 of 6 items have identical text on both sides: the fake reads no "
                                            "free text")
    fake_describer.is_lvlm = True
    assert compare(stocked_lab, stocked_lab.store.items(), run.side_a, run.side_b).identical_note.endswith(
        "votes on those items can only be ties.")


def test_the_identical_note_names_the_describer_by_its_own_label(stocked_lab, fake_describer):
    """Observed: the note called every non-LVLM describer 'the offline tagger', the simulated LVLM too."""
    v1 = stocked_lab.prompts.get("preference@v1")
    v2 = stocked_lab.prompts.save("preference", v1.template + "\nMention the season.", variables=v1.variables,
                                  facets=v1.facets, max_words=v1.max_words)
    fake_describer.is_lvlm = False
    fake_describer.label = simulated_label(0.75)  # as the simulated describer labels itself
    run = run_ab(stocked_lab, stocked_lab.store.items(), SideSpec(v1.ref, "fake"), SideSpec(v2.ref, "fake"))
    note = compare(stocked_lab, stocked_lab.store.items(), run.side_a, run.side_b).identical_note
    assert note.startswith("6 of 6 items have identical text on both sides: the simulated LVLM (sample ground truth, "
                           "accuracy 0.75) reads no free text") and "tagger" not in note


def test_recall_of_an_ab_ranks_the_catalogue_not_the_sample(stocked_lab, fake_describer):
    """Observed: the Prompt Lab's Recall@10 was scored on the 12 sampled SKUs (0.981 for both sides)."""
    stocked_lab.workspace.interactions_csv.write_text("shopper_id,sku,timestamp\n" + "".join(
        f"{s},{sku},2026-01-0{d}T10:00:00Z\n" for s, seq in (("S1", "A1 A2 A3"), ("S2", "B1 B2 H1"), ("S3", "A2 B1"))
        for d, sku in enumerate(seq.split(), start=1)))
    sample = stocked_lab.store.items().head(2)
    run = run_ab(stocked_lab, sample, SideSpec("preference@v1", "fake"), SideSpec("appearance@v1", "fake"))
    sides = [run.side_a, run.side_b]
    with pytest.raises(VitrineError, match=r"covers 2 of 6 items; Recall@K over the catalogue needs the whole"):
        recall_at_k(stocked_lab, [s.run for s in sides], **TINY_FLOORS)
    assert [len(p.to_describe) for p in recall_plans(stocked_lab, sides)] == [4, 4]
    calls = len(fake_describer.calls)
    complete_sides(stocked_lab, sides)
    assert len(fake_describer.calls) == calls + 8  # the rest of the catalogue, once per side; the sample is cached
    result = recall_at_k(stocked_lab, [s.run for s in sides], **TINY_FLOORS)
    assert result["pool"] == 6 and result["users"] == 3
    with pytest.raises(VitrineError, match="needs at least 50"):  # the documented floor, by default
        recall_at_k(stocked_lab, [s.run for s in sides])
