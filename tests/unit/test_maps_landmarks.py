"""Maps beyond LANDMARKS items: UMAP sees a seeded sample, the rest are placed from their nearest landmarks."""

import numpy as np

import core.represent.maps as maps
from core.nets.encoders import normalise
from core.represent.maps import landmark_rows, project


def clustered(n: int, dim: int = 16, seed: int = 0, types: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((types, dim))
    return normalise((centres[rng.integers(0, types, n)] + 0.3 * rng.standard_normal((n, dim))).astype(np.float32))


def test_landmark_fit_lays_out_the_sample_with_umap_and_places_every_other_vector():
    vectors = clustered(300)
    xy = maps._fit(vectors, n_neighbors=10, min_dist=0.1, seed=3, landmarks=100)
    assert xy.shape == (300, 2) and xy.dtype == np.float32 and np.isfinite(xy).all()
    chosen = landmark_rows(300, 100, 3)
    assert len(set(chosen)) == 100
    rest = np.setdiff1d(np.arange(300), chosen)
    np.testing.assert_array_equal(xy[chosen], maps._umap_layout(vectors[chosen], n_neighbors=10, min_dist=0.1,
                                                                 seed=3))
    np.testing.assert_array_equal(xy[rest], maps._place(vectors[rest], vectors[chosen], xy[chosen], 10))
    np.testing.assert_array_equal(xy, maps._fit(vectors, n_neighbors=10, min_dist=0.1, seed=3, landmarks=100))
    assert not np.array_equal(landmark_rows(300, 100, 4), chosen)  # the seed picks the sample


def test_placed_items_land_among_their_own_cluster():
    rng = np.random.default_rng(1)
    centres = np.eye(16, dtype=np.float32)[:4] * 5
    labels = rng.integers(0, 4, 400)
    vectors = normalise((centres[labels] + 0.5 * rng.standard_normal((400, 16))).astype(np.float32))
    xy = maps._fit(vectors, n_neighbors=10, min_dist=0.1, seed=0, landmarks=120)
    rest = np.setdiff1d(np.arange(400), landmark_rows(400, 120, 0))
    centroids = np.stack([xy[labels == c].mean(axis=0) for c in range(4)])
    nearest = np.argmin(((xy[rest, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels[rest]).mean() > 0.95


def test_project_uses_landmarks_only_above_the_threshold(described_lab, monkeypatch):
    lab, rep = described_lab
    calls = []
    real = maps._fit
    monkeypatch.setattr(maps, "_FITS", {})
    monkeypatch.setattr(maps, "_fit", lambda *a, **k: calls.append(k) or real(*a, **k))
    small = project(lab, rep)
    assert "landmarks" not in calls[-1]  # 6 items: a full fit, under the key it always had
    monkeypatch.setattr(maps, "LANDMARKS", 5)
    big = project(lab, rep)
    assert calls[-1]["landmarks"] == 5 and big.key != small.key
    assert len(big.points) == 6 and np.isfinite(big.points[["x", "y"]].to_numpy()).all()
    again = project(lab, rep)
    assert len(calls) == 2  # re-opened from the cache
    np.testing.assert_array_equal(again.points[["x", "y"]], big.points[["x", "y"]])


def test_large_placements_search_nearby_clusters_and_find_nearly_every_exact_neighbour(monkeypatch):
    vectors = clustered(3000, dim=32, seed=5, types=60)  # product types, as in a catalogue
    queries = clustered(3400, dim=32, seed=5, types=60)[3000:]  # the same types, other items
    exact = maps._neighbours(queries, vectors, 10)[0]
    found = maps._clustered_neighbours(queries, vectors, 10, maps._Clusters(vectors, seed=0))[0]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found, strict=True)])
    assert recall > 0.9
    xy = np.random.default_rng(0).standard_normal((3000, 2)).astype(np.float32)
    monkeypatch.setattr(maps, "EXACT_PAIRS", 0)  # every placement now searches clusters
    placed = maps._place(vectors[:5], vectors, xy, 10, maps._Clusters(vectors, 0))
    np.testing.assert_array_equal(placed, xy[:5])  # duplicates still land on


def test_a_large_landmark_sample_finds_its_own_graph_among_nearby_clusters_too(monkeypatch):
    rng = np.random.default_rng(1)
    centres = np.eye(16, dtype=np.float32)[:4] * 5
    labels = rng.integers(0, 4, 400)
    vectors = normalise((centres[labels] + 0.5 * rng.standard_normal((400, 16))).astype(np.float32))
    searches = []
    real = maps._clustered_neighbours
    monkeypatch.setattr(maps, "_clustered_neighbours", lambda q, v, *a: searches.append(len(q)) or real(q, v, *a))
    monkeypatch.setattr(maps, "EXACT_PAIRS", 0)
    xy = maps._fit(vectors, n_neighbors=10, min_dist=0.1, seed=0, landmarks=120)
    assert searches == [120, 280]  # the landmarks' graph, then the other items
    rest = np.setdiff1d(np.arange(400), landmark_rows(400, 120, 0))
    centroids = np.stack([xy[labels == c].mean(axis=0) for c in range(4)])
    nearest = np.argmin(((xy[rest, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels[rest]).mean() > 0.95
