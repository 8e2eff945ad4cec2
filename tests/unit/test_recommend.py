import numpy as np
import pytest

from core.errors import VitrineError
from core.represent.recommend import recency_weights, recommend, search, top_k
from core.runs.prompt import run_prompt


@pytest.fixture
def described(stocked_lab, fake_describer):
    # Queue texts in SKU order (concurrency 1 keeps the order deterministic).
    texts = {
        "A1": ("minimalist linen shirt for the office", {"style": ["minimalist"], "material": ["linen"]}),
        "A2": ("minimalist linen shirt for weekend brunch", {"style": ["minimalist"], "material": ["linen"]}),
        "A3": ("streetwear denim jacket for concerts", {"style": ["streetwear"], "material": ["denim"]}),
        "B1": ("classic leather tote for the office", {"style": ["classic"], "material": ["leather"]}),
        "B2": ("classic leather tote for travel", {"style": ["classic"], "material": ["leather"]}),
        "H1": ("rustic ceramic vase for the living room", {"style": ["rustic"], "material": ["ceramic"]}),
    }
    fake_describer.queue.extend(texts[s] for s in stocked_lab.store.items()["sku"])
    stocked_lab.store.set_setting("active_provider", "fake")
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "fake", concurrency=1)
    return stocked_lab


def test_recommend_excludes_history_and_sorts(described):
    recs = recommend(described, ["A1", "B1"], k=10)
    skus = [r.sku for r in recs]
    assert "A1" not in skus and "B1" not in skus
    assert len(recs) == 4
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_nearest_item_and_explanation(described):
    top = recommend(described, ["A1"], k=1)[0]
    assert top.sku == "A2"
    assert top.closest_history == "A1"
    assert top.shared_attributes == {"style": ["minimalist"], "material": ["linen"]}
    assert top.title == "Blue Linen Shirt"


def test_search_ranks_matching_description_first(described):
    assert search(described, "rustic ceramic vase", k=3)[0].sku == "H1"


def test_errors_are_specific(described):
    with pytest.raises(VitrineError, match="at least one history item"):
        recommend(described, [])
    with pytest.raises(VitrineError, match="none of the history SKUs"):
        recommend(described, ["NOPE"])
    with pytest.raises(VitrineError, match="no representation named 'zzz'"):
        recommend(described, ["A1"], representation="zzz")
    with pytest.raises(VitrineError, match="empty search query"):
        search(described, "  ")


def test_top_k_handles_k_larger_than_pool_and_ties():
    m = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    idx, scores = top_k(m, np.array([1, 0], dtype=np.float32), 10, exclude=[2])
    assert list(idx) == [0, 1] and list(scores) == [1.0, 1.0]
    idx, _ = top_k(m, np.array([1, 0], dtype=np.float32), 5, exclude=[0, 1, 2])
    assert len(idx) == 0


def test_recency_weights_favour_recent_items():
    w = recency_weights(3, half_life=1.0)
    assert w == [0.25, 0.5, 1.0]


def test_empty_workspace_says_what_to_do(lab):
    with pytest.raises(VitrineError, match="run `vitrine describe` first"):
        recommend(lab, ["A1"])


def test_k_beyond_the_candidates_is_clamped_with_a_note(described):
    recs = recommend(described, ["A1"], k=100_000)
    assert len(recs) == 5 and "A1" not in {r.sku for r in recs}
    assert recs.pool.notes() == ["k=100,000 is more than the 5 candidate(s): all 5 are ranked"]
    hits = search(described, "linen", k=100_000)
    assert len(hits) == 6 and hits.pool.notes() == ["k=100,000 is more than the 6 candidate(s): all 6 are ranked"]
    assert recommend(described, ["A1"], k=5).pool.notes() == []  # a k that fits, over the whole catalogue


@pytest.mark.parametrize("k", [0, -3])
def test_k_below_one_is_an_error(described, k):
    with pytest.raises(VitrineError, match=f"k must be at least 1 \\(got {k}\\)"):
        search(described, "linen", k=k)
    with pytest.raises(VitrineError, match=f"k must be at least 1 \\(got {k}\\)"):
        recommend(described, ["A1"], k=k)


def test_a_partial_representation_ranks_with_its_pool_said(stocked_lab):
    run = run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", skus=["A1", "A2", "B1"])
    hits = search(stocked_lab, "tote", k=2, representation=run.representation)
    assert {h.sku for h in hits} <= {"A1", "A2", "B1"}
    pool = hits.pool
    assert (pool.representation, pool.covered, pool.catalogue, pool.candidates, pool.asked) == \
        (run.representation, 3, 6, 3, 2)
    assert pool.partial
    assert pool.notes() == [f"ranked over 3 of 6 items: {run.representation} covers only these, so results can "
                            "only come from them"]
