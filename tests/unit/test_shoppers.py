import numpy as np
import pytest

from core.errors import VitrineError
from core.represent.recommend import Recommendation, load_matrix, recommend
from core.represent.shoppers import (
    InteractionsError,
    compare_lists,
    load_interactions,
    persona_profile,
    sample_shoppers,
    sensitivity,
    shopper_history,
    simulate,
)
from core.runs.prompt import run_prompt

INTERACTIONS = """shopper_id,sku,timestamp
S1,B1,2026-01-03T10:00:00Z
S1,A1,2026-01-01T10:00:00Z
S1,A2,2026-01-02T10:00:00Z
S2,B2,2026-01-05T10:00:00Z
"""


def recs(*skus):
    return [Recommendation(s, 1.0) for s in skus]


def test_interactions_load_and_histories_are_time_ordered(stocked_lab):
    path = stocked_lab.workspace.interactions_csv
    assert sample_shoppers(stocked_lab) == {}  # no file: no sample shoppers, no error
    path.write_text(INTERACTIONS)
    interactions = load_interactions(path)
    assert shopper_history(interactions, "S1") == ["A1", "A2", "B1"]
    assert sample_shoppers(stocked_lab) == {"S1": ["A1", "A2", "B1"], "S2": ["B2"]}
    with pytest.raises(VitrineError, match="no interactions for shopper 'S9'"):
        shopper_history(interactions, "S9")


def test_sample_shoppers_follow_a_rewritten_interactions_file(stocked_lab):
    path = stocked_lab.workspace.interactions_csv
    path.write_text(INTERACTIONS)
    assert sorted(sample_shoppers(stocked_lab)) == ["S1", "S2"]
    sample_shoppers(stocked_lab)["S1"].append("X")  # callers get their own lists
    assert sample_shoppers(stocked_lab)["S1"] == ["A1", "A2", "B1"]
    path.write_text(INTERACTIONS + "S3,A1,2026-01-06T10:00:00Z\n")
    assert sample_shoppers(stocked_lab)["S3"] == ["A1"]
    path.unlink()
    assert sample_shoppers(stocked_lab) == {}


@pytest.mark.parametrize(("text", "message"), [
    ("customer,sku,timestamp\nS1,A1,2026-01-01\n", "missing column.*shopper_id"),
    ("shopper_id,sku\nS1,A1\n", "missing column.*timestamp"),
    ("shopper_id,sku,timestamp\nS1,A1,2026-01-01\nS1,A2,yesterday\n", "'yesterday' at data row 2"),
    ("shopper_id,sku,timestamp\nS1,,2026-01-01\n", "without a shopper_id or sku"),
    ("", r"^no interactions in interactions\.csv$"),
    ("shopper_id,sku,timestamp\n", r"^no interactions in interactions\.csv$"),
])
def test_bad_interactions_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "interactions.csv"
    path.write_text(text)
    with pytest.raises(VitrineError, match=message):
        load_interactions(path)


def test_missing_interactions_file_is_an_error(tmp_path):
    with pytest.raises(InteractionsError, match="no interactions file"):
        load_interactions(tmp_path / "nope.csv")


def test_simulate_returns_k_items_without_history_and_its_profile(described_lab):
    lab, rep = described_lab
    shopper = simulate(lab, ["A1", "A2"], 3, rep)
    assert len(shopper.recommendations) == 3
    assert not {"A1", "A2"} & {r.sku for r in shopper.recommendations}
    assert all(r.closest_history in {"A1", "A2"} for r in shopper.recommendations)
    m = load_matrix(lab, rep)
    expected = m.vectors[[m.index["A1"], m.index["A2"]]].mean(axis=0)
    np.testing.assert_allclose(shopper.profile, expected / np.linalg.norm(expected), atol=1e-6)


def test_persona_ranks_like_search_and_refuses_visual(described_lab):
    lab, rep = described_lab
    shopper = persona_profile(lab, "red leather tote bags", rep, k=2)
    assert [r.sku for r in shopper.recommendations][0] == "B2"
    assert shopper.persona == "red leather tote bags" and shopper.history == []
    np.testing.assert_allclose(shopper.profile, lab.encoder.encode(["red leather tote bags"])[0])
    lab.store.register_representation("visual", "visual", 1280)
    with pytest.raises(VitrineError, match="image features"):
        persona_profile(lab, "red leather tote bags", "visual")


def test_compare_lists_counts_overlap_and_jaccard():
    ov = compare_lists(recs("A1", "A2", "B1"), recs("B1", "H1", "A1"))
    assert ov.k == 3 and ov.count == 2 and ov.common == ["A1", "B1"]
    assert ov.only_a == ["A2"] and ov.only_b == ["H1"]
    assert ov.jaccard == pytest.approx(2 / 4)
    assert compare_lists(recs("A1"), recs("B1")).jaccard == 0.0
    assert compare_lists([], []).jaccard == 1.0


def test_compare_two_representations(described_lab):
    lab, rep = described_lab
    a = recommend(lab, ["A1"], 5, rep)
    b = recommend(lab, ["A1"], 5, "title")
    ov = compare_lists(a, b)
    assert ov.k == 5 and ov.count == 5 and ov.jaccard == 1.0  # 5 of the 5 other items: the lists must agree


def test_sensitivity_removes_each_history_item_once(described_lab):
    lab, rep = described_lab
    history = ["A1", "A2", "B1"]
    full = {r.sku for r in recommend(lab, history, 2, rep)}
    rows = sensitivity(lab, history, 2, rep)
    assert [r.removed for r in rows] == history
    for row in rows:
        reduced = {r.sku for r in recommend(lab, [s for s in history if s != row.removed], 2, rep)}
        assert row.overlap == len(full & reduced) and row.k == 2
        assert set(row.entered) == reduced - full and set(row.left) == full - reduced
        assert row.jaccard == pytest.approx(len(full & reduced) / len(full | reduced))
    assert full == {"B2", "A3"}
    without_a1 = rows[0]  # A1 leaves the history, so it is no longer excluded and pushes out the jacket
    assert (without_a1.overlap, without_a1.entered, without_a1.left) == (1, ["A1"], ["A3"])
    with pytest.raises(VitrineError, match="at least two"):
        sensitivity(lab, ["A1", "A1"], 2, rep)


def test_sensitivity_skips_history_skus_without_vectors(described_lab):
    lab, rep = described_lab
    rows = sensitivity(lab, ["A1", "ZZ9", "A2"], 2, rep)
    assert [r.removed for r in rows] == ["A1", "A2"]
    with pytest.raises(VitrineError, match="at least two different history items with vectors"):
        sensitivity(lab, ["A1", "ZZ9"], 2, rep)


def test_a_shopper_on_a_partial_representation_says_what_was_ranked_and_ignored(stocked_lab):
    run = run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", skus=["A1", "A2", "B1", "B2"])
    shopper = simulate(stocked_lab, ["A1", "H1"], 10, run.representation)
    pool = shopper.recommendations.pool
    assert {r.sku for r in shopper.recommendations} == {"A2", "B1", "B2"}
    assert (pool.covered, pool.catalogue, pool.candidates, pool.ignored) == (4, 6, 3, ("H1",))
    assert pool.notes() == [
        f"ranked over 4 of 6 items: {run.representation} covers only these, so results can only come from them",
        "k=10 is more than the 3 candidate(s): all 3 are ranked",
        f"1 history item(s) have no vector in {run.representation} and do not shape the profile: H1",
    ]
