"""ANN serving above the size threshold (tiny thresholds and indexes here), and store compaction."""

from __future__ import annotations

import numpy as np
import pytest

from core.catalog import ann
from core.lab import Lab
from core.nets.encoders import normalise
from core.represent import recommend
from core.represent.recommend import load_matrix, nearest, top_k

DIM = 16
ROWS = 600
TINY = ann.AnnConfig(rows_per_partition=100, num_sub_vectors=4, nprobes=6, candidates=10, sample_rate=16)


def clustered(rows: int, seed: int = 0) -> np.ndarray:
    """Vectors around 12 centres, like item embeddings of 12 product types."""
    rng = np.random.default_rng(seed)
    centres = normalise(rng.standard_normal((12, DIM)))
    return normalise(centres[np.arange(rows) % 12] + 0.3 * rng.standard_normal((rows, DIM)))


def stock(lab: Lab, vectors: np.ndarray, name: str = "rep") -> list[str]:
    table = lab.store.register_representation(name, "description", DIM)
    skus = [f"S{i:04d}" for i in range(len(vectors))]
    lab.store.upsert_vectors(table, DIM, skus, ["sha"] * len(skus), ["t"] * len(skus), vectors)
    return skus


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "ANN_MIN_ROWS", 300)
    monkeypatch.setattr(ann, "DEFAULT", TINY)


def wait_for_index(lab: Lab, name: str = "rep") -> None:
    ann.BUILDS.wait(lab.store.uri, lab.store.representation(name)["table"], timeout=60)


def test_below_the_threshold_nothing_is_built(lab: Lab) -> None:
    stock(lab, clustered(50))
    m = load_matrix(lab, "rep")
    assert not m.indexed and not ann.BUILDS.running(lab.store.uri, m.table)
    assert ann.vector_index(lab.store.vector_table(m.table)) is None


def test_above_the_threshold_an_index_is_built_and_the_matrix_is_not_reloaded(lab: Lab, small_threshold: None) -> None:
    stock(lab, clustered(ROWS))
    first = load_matrix(lab, "rep")
    assert not first.indexed  # served exactly while the index builds
    wait_for_index(lab)
    second = load_matrix(lab, "rep")
    assert second.indexed and ann.vector_index(lab.store.vector_table(second.table)) is not None
    assert second.vectors is first.vectors  # the index's version bump did not re-read the vectors


def test_indexed_recommendations_exclude_history_and_match_exact(lab: Lab, small_threshold: None) -> None:
    vectors = clustered(ROWS)
    skus = stock(lab, vectors)
    load_matrix(lab, "rep")
    wait_for_index(lab)
    m = load_matrix(lab, "rep")
    assert m.indexed
    for history in (["S0000"], ["S0001", "S0013", "S0025"], skus[:40:12]):
        rows = [m.index[s] for s in history]
        profile = normalise(m.vectors[rows].mean(axis=0))
        got, got_scores = nearest(lab, m, profile, 10, rows)
        exact, exact_scores = top_k(m.vectors, profile, 10, rows)
        assert not set(got) & set(rows)
        assert len(set(got) & set(exact)) >= 9  # recall@10 against exact
        np.testing.assert_allclose(got_scores, np.sort(got_scores)[::-1])  # re-scored exactly, best first
        recs = recommend.recommend(lab, history, 10, "rep", explain=False)
        assert [r.sku for r in recs] == [m.skus[i] for i in got]


def test_row_ids_map_to_the_right_items_after_deletes_and_appends(lab: Lab, small_threshold: None) -> None:
    vectors = clustered(ROWS + 40)
    skus = stock(lab, vectors[:ROWS])
    load_matrix(lab, "rep")
    wait_for_index(lab)
    table = lab.store.representation("rep")["table"]
    doomed = ",".join(f"'{s}'" for s in skus[:30])
    lab.store.vector_table(table).delete(f"sku IN ({doomed})")  # deletion vectors: other row ids stay
    new = [f"N{i:03d}" for i in range(40)]
    lab.store.upsert_vectors(table, DIM, new, ["sha"] * 40, ["t"] * 40, vectors[ROWS:])  # a new fragment
    m = load_matrix(lab, "rep")
    assert m.indexed and len(m.skus) == ROWS - 30 + 40
    for row in (0, 100, len(m.skus) - 1):
        got, _ = nearest(lab, m, m.vectors[row], 10, [row])
        exact, _ = top_k(m.vectors, m.vectors[row], 10, [row])
        assert len(set(got) & set(exact)) >= 9 and row not in got
        assert not {m.skus[i] for i in got} & set(skus[:30])


def test_a_short_index_answer_falls_back_to_exact(lab: Lab, small_threshold: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stock(lab, clustered(ROWS))
    load_matrix(lab, "rep")
    wait_for_index(lab)
    m = load_matrix(lab, "rep")
    async def short(*_: object, **__: object) -> np.ndarray:
        return np.array([1], dtype=np.int64)  # one row id where six were asked for

    monkeypatch.setattr(ann, "query", short)
    idx, _ = nearest(lab, m, m.vectors[0], 5, [0])
    np.testing.assert_array_equal(idx, top_k(m.vectors, m.vectors[0], 5, [0])[0])


def test_a_failed_build_leaves_serving_exact(lab: Lab, small_threshold: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> float:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ann, "build_index", broken)
    stock(lab, clustered(ROWS))
    load_matrix(lab, "rep")
    wait_for_index(lab)
    m = load_matrix(lab, "rep")
    assert not m.indexed and not ann.BUILDS.running(lab.store.uri, m.table)  # not retried on every request
    assert [r.sku for r in recommend.recommend(lab, ["S0000"], 3, "rep", explain=False)]


def test_unknown_index_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="ivf_pq"):
        ann.AnnConfig(kind="annoy")


def test_optimize_compacts_fragments_and_indexes_new_rows(lab: Lab) -> None:
    vectors = clustered(ROWS)
    table = lab.store.register_representation("rep", "description", DIM)
    for start in range(0, ROWS, 50):  # twelve batched writes: twelve fragments
        skus = [f"S{i:04d}" for i in range(start, start + 50)]
        lab.store.upsert_vectors(table, DIM, skus, ["sha"] * 50, ["t"] * 50, vectors[start:start + 50])
    fragments, small = lab.store.fragment_counts([table])[table]
    assert fragments == 12 and small == 12
    ann.build_index(lab.store.vector_table(table), TINY)
    lab.store.upsert_vectors(table, DIM, ["NEW"], ["sha"], ["t"], vectors[:1])
    assert lab.store.vector_table(table).index_stats(ann.vector_index(lab.store.vector_table(table))
                                                     ).num_unindexed_rows == 1
    history_before = len(lab.store.vector_table(table).list_versions())
    [(before, after)] = lab.store.optimize([table]).values()
    assert before == 13 and after <= 2  # lance keeps indexed and newly indexed rows in separate fragments
    t = lab.store.vector_table(table)
    assert t.count_rows() == ROWS + 1
    assert t.index_stats(ann.vector_index(t)).num_unindexed_rows == 0
    assert len(t.list_versions()) > history_before  # nothing pruned: undo keeps every version


def test_optimize_if_fragmented_leaves_tidy_tables_alone(lab: Lab) -> None:
    stock(lab, clustered(20))
    assert lab.store.optimize_if_fragmented() == {}
    assert lab.store.optimize_if_fragmented(min_small_fragments=1)  # every table qualifies at 1
