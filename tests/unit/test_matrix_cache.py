"""The recommender's matrix cache holds a bounded number of bytes, drops the least recently used first, and a
version bump replaces an entry instead of adding one."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

from core.config import Settings
from core.errors import ConfigError
from core.lab import Lab
from core.nets.encoders import normalise
from core.represent import recommend
from core.represent.recommend import ByteLRU, estimate_bytes, load_matrix

DIM = 16
ROWS = 200


def stock(lab: Lab, name: str, rows: int = ROWS, seed: int = 0, prefix: str = "S") -> tuple[list[str], np.ndarray]:
    """A representation of `rows` random vectors; returns what load_matrix should give back."""
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    skus = [f"{prefix}{i:04d}" for i in range(rows)]
    table = lab.store.register_representation(name, "description", DIM)
    lab.store.upsert_vectors(table, DIM, skus, ["sha"] * rows, ["t"] * rows, vectors)
    return skus, normalise(vectors)


def matrix_keys(lab: Lab) -> list[str]:
    """Tables whose matrices are cached, least recently used first."""
    return [k[2] for k in recommend._CACHE.lru_order() if k[:2] == ("matrix", lab.store.uri)]


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> ByteLRU:
    """A fresh, empty matrix cache whose budget follows recommend.MATRIX_CACHE_BYTES (no env override)."""
    monkeypatch.delenv("VITRINE_MATRIX_CACHE_MB", raising=False)
    fresh = ByteLRU()
    monkeypatch.setattr(recommend, "_CACHE", fresh)
    return fresh


def test_loading_more_than_fits_evicts_the_least_recently_used_and_reloads_it_intact(
        lab: Lab, cache: ByteLRU, monkeypatch: pytest.MonkeyPatch) -> None:
    stocked = {name: stock(lab, name, seed=i) for i, name in enumerate("abc")}
    table = {name: lab.store.representation(name)["table"] for name in stocked}
    load_matrix(lab, "a")
    one = estimate_bytes(cache.get(("matrix", lab.store.uri, table["a"])))
    monkeypatch.setattr(recommend, "MATRIX_CACHE_BYTES", int(2.5 * one))  # room for two matrices, not three

    load_matrix(lab, "b")
    load_matrix(lab, "a")  # a is now the most recently used
    load_matrix(lab, "c")
    assert matrix_keys(lab) == [table["a"], table["c"]]  # b, least recently used, went
    assert cache.nbytes <= recommend.MATRIX_CACHE_BYTES

    again = load_matrix(lab, "b")  # read back from LanceDB after the eviction
    skus, vectors = stocked["b"]
    assert again.skus == skus and again.index == {s: i for i, s in enumerate(skus)}
    np.testing.assert_allclose(again.vectors, vectors, atol=1e-6)
    assert matrix_keys(lab) == [table["c"], table["b"]]
    assert recommend.recommend(lab, [skus[0]], 3, "b", explain=False)[0].sku != skus[0]


def test_an_evicted_matrix_is_freed_even_after_its_row_ids_were_read(lab: Lab, cache: ByteLRU,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    stock(lab, "a")
    stock(lab, "b", seed=1)
    m = load_matrix(lab, "a")
    recommend._row_map(lab, m)  # memoised beside the matrix, for the ANN path
    vectors = weakref.ref(m.vectors)
    del m
    monkeypatch.setattr(recommend, "MATRIX_CACHE_BYTES", 1)  # only the newest entry may stay
    load_matrix(lab, "b")
    gc.collect()
    assert vectors() is None


def test_a_version_bump_replaces_the_entry_instead_of_adding_one(lab: Lab, cache: ByteLRU) -> None:
    skus, _ = stock(lab, "a")
    table = lab.store.representation("a")["table"]
    first = load_matrix(lab, "a")
    entries, size = len(cache.lru_order()), cache.nbytes
    lab.store.upsert_vectors(table, DIM, ["NEW"], ["sha"], ["t"], np.ones((1, DIM), np.float32))
    second = load_matrix(lab, "a")
    assert second.skus == [*skus, "NEW"] and first.skus == skus
    assert matrix_keys(lab) == [table] and len(cache.lru_order()) == entries
    assert cache.get(("matrix", lab.store.uri, table)).version > 0
    assert size < cache.nbytes < 2 * size  # the old version's bytes were given back, not kept beside the new


def test_the_lru_evicts_by_bytes_and_keeps_the_newest_even_when_it_alone_is_too_big() -> None:
    budget = [3000]
    lru = ByteLRU(lambda: budget[0])
    lru.put("a", np.zeros(1000, np.uint8))
    lru.put("b", np.zeros(1000, np.uint8))
    assert lru.get("a") is not None  # touched: b is now the least recently used
    lru.put("c", np.zeros(1500, np.uint8))
    assert lru.lru_order() == ["a", "c"] and lru.nbytes == 2500
    lru.put("a", np.zeros(10, np.uint8))  # same key: replaced, its bytes given back
    assert lru.lru_order() == ["c", "a"] and lru.nbytes == 1510
    lru.put("huge", np.zeros(5000, np.uint8))
    assert lru.lru_order() == ["huge"] and lru.nbytes == 5000
    budget[0] = 0
    lru.update("huge", lambda old: old[:1])
    lru.update("gone", lambda old: pytest.fail("absent keys are left alone"))
    assert lru.get("huge").shape == (1,) and lru.get("gone") is None


def test_the_lru_keeps_its_books_under_concurrent_use() -> None:
    lru = ByteLRU(lambda: 20_000)

    def churn(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(300):
            key = int(rng.integers(0, 40))
            if lru.get(key) is None:
                lru.put(key, np.zeros(int(rng.integers(100, 3000)), np.uint8))

    threads = [threading.Thread(target=churn, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lru.nbytes == sum(lru.get(k).nbytes for k in lru.lru_order()) <= 20_000


def test_estimates_are_exact_for_arrays_and_close_for_sku_lists_and_indexes() -> None:
    skus = [f"SKU-{i:07d}" for i in range(100_000)]
    index = {s: i for i, s in enumerate(skus)}
    vectors = np.zeros((100_000, 8), np.float32)
    assert estimate_bytes(vectors) == vectors.nbytes
    exact_list = sum(map(sys.getsizeof, skus)) + sys.getsizeof(skus)
    assert 0.9 * exact_list < estimate_bytes(skus) < 1.1 * exact_list
    assert estimate_bytes(index) > estimate_bytes(skus)
    assert estimate_bytes((1, (vectors, skus))) > vectors.nbytes + estimate_bytes(skus)


def test_the_budget_comes_from_the_environment_in_megabytes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).matrix_cache_bytes is None
    assert Settings.from_env({"VITRINE_MATRIX_CACHE_MB": "512"}).matrix_cache_bytes == 512 << 20
    for bad in ("lots", "-1", "1.5", "²"):
        with pytest.raises(ConfigError, match="VITRINE_MATRIX_CACHE_MB must be a whole number of megabytes"):
            Settings.from_env({"VITRINE_MATRIX_CACHE_MB": bad})
    monkeypatch.delenv("VITRINE_MATRIX_CACHE_MB", raising=False)
    assert recommend.cache_budget() == recommend.MATRIX_CACHE_BYTES == 2 << 30
    monkeypatch.setenv("VITRINE_MATRIX_CACHE_MB", "64")
    assert recommend.cache_budget() == 64 << 20
