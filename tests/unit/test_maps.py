import numpy as np
import pytest
from scipy.sparse import coo_matrix

import core.represent.maps as maps
from core.represent.maps import MapError, colour_options, place, project
from core.represent.recommend import load_matrix
from core.runs.prompt import run_prompt


@pytest.fixture
def fits(monkeypatch):
    """Count real UMAP fits, starting from an empty in-memory cache."""
    monkeypatch.setattr(maps, "_FITS", {})
    calls = []
    real = maps._fit

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(maps, "_fit", counting)
    return calls


def test_projection_of_six_items_has_points_with_metadata(described_lab, fits):
    lab, rep = described_lab
    proj = project(lab, rep)
    pts = proj.points
    assert sorted(pts["sku"]) == ["A1", "A2", "A3", "B1", "B2", "H1"]
    assert np.isfinite(pts[["x", "y"]].to_numpy()).all()
    assert pts["x"].std() > 0 and pts["y"].std() > 0
    assert proj.n_neighbors == 5  # 15 clipped to n - 1
    assert fits[0]["n_neighbors"] == 5
    row = pts.set_index("sku").loc["A1"]
    assert row["title"] == "Red Linen Shirt" and row["category"] == "apparel"
    assert row["style"] == ("minimalist",)  # the fake describer's attribute, as a tuple of values
    assert row["prompt_version"] == ("preference@v1",)
    assert colour_options(pts)[0] == "category" and "style" in colour_options(pts)
    assert colour_options(pts)[-1] == "prompt_version"
    assert "material" not in colour_options(pts)  # no item has that facet


def test_second_call_reuses_the_fit_in_memory_and_on_disk(described_lab, fits):
    lab, rep = described_lab
    first = project(lab, rep)
    assert len(fits) == 1
    assert (lab.workspace.root / "maps" / f"{first.key}.npz").exists()
    again = project(lab, rep)
    assert len(fits) == 1 and again.key == first.key
    np.testing.assert_array_equal(again.points[["x", "y"]], first.points[["x", "y"]])

    maps._FITS.clear()  # a new server process: only the disk cache is left
    reopened = project(lab, rep)
    assert len(fits) == 1
    np.testing.assert_allclose(reopened.points[["x", "y"]], first.points[["x", "y"]])
    np.testing.assert_allclose(place(reopened, load_matrix(lab, rep).vectors[:1]), first.points[["x", "y"]][:1])


def test_changed_vectors_or_parameters_refit(described_lab, fits):
    lab, rep = described_lab
    a = project(lab, rep)
    b = project(lab, rep, min_dist=0.5)
    assert len(fits) == 2 and a.key != b.key
    project(lab, "title")
    assert len(fits) == 3
    lab.store.delete_items(["H1"])
    smaller = project(lab, rep)
    assert len(fits) == 4 and "H1" not in set(smaller.points["sku"])


def test_only_the_newest_fits_of_a_representation_stay_on_disk(described_lab, fits):
    lab, rep = described_lab
    project(lab, "title")
    keys = [project(lab, rep, min_dist=d).key for d in (0.1, 0.2, 0.3, 0.4)]
    folder = lab.workspace.root / "maps"
    kept = {p.stem for p in folder.glob("*.npz")}
    assert kept == {*keys[1:], project(lab, "title").key}
    assert keys[0].startswith("preference_v1_fake_fake_1-")


def test_pruning_also_removes_an_older_recipes_model_pickle(described_lab, fits):
    lab, rep = described_lab
    folder = lab.workspace.root / "maps"
    project(lab, rep, min_dist=0.1)
    old = folder / f"{project(lab, rep, min_dist=0.2).key}.pkl"
    old.write_bytes(b"recipe 1 kept its umap model here")
    for d in (0.3, 0.4, 0.5):
        project(lab, rep, min_dist=d)
    assert not old.exists() and not list(folder.glob("*.pkl"))


def test_place_starts_new_vectors_where_umap_transform_does_without_touching_the_map(described_lab, fits):
    from umap.umap_ import compute_membership_strengths, init_graph_transform, smooth_knn_dist

    lab, rep = described_lab
    proj = project(lab, rep)
    before = proj.points[["x", "y"]].to_numpy().copy()
    vectors = load_matrix(lab, rep).vectors
    new = vectors[[0, 3]] + 0.01
    placed = place(proj, new)
    assert placed.shape == (2, 2) and placed.dtype == np.float32
    assert len(fits) == 1  # no refit
    np.testing.assert_array_equal(project(lab, rep).points[["x", "y"]].to_numpy(), before)

    indices, dists = maps._neighbours(maps.normalise(new), proj.vectors, proj.n_neighbors)
    sigmas, rhos = smooth_knn_dist(dists, float(proj.n_neighbors), local_connectivity=0.0)
    rows, cols, vals, _ = compute_membership_strengths(indices, dists, sigmas, rhos, bipartite=True)
    graph = coo_matrix((vals, (rows, cols)), shape=(2, len(vectors))).tocsr()
    np.testing.assert_allclose(placed, init_graph_transform(graph, before.astype(np.float32)), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(place(proj, vectors[2]), before[[2]])  # a catalogue vector sits on its item
    assert place(proj, np.zeros((0, vectors.shape[1]))).shape == (0, 2)
    with pytest.raises(MapError, match="cannot place 3-d vectors"):
        place(proj, np.ones((1, 3)))


def test_tiny_catalogue_and_bad_parameters_are_clear_errors(described_lab, fits):
    lab, rep = described_lab
    lab.store.delete_items(["A1", "A2", "A3"])
    with pytest.raises(MapError, match="has 3 item vector"):
        project(lab, rep)
    with pytest.raises(MapError, match="n_neighbors"):
        project(lab, rep, n_neighbors=1)
    with pytest.raises(MapError, match="min_dist"):
        project(lab, rep, min_dist=2.0)
    assert fits == []


def test_colour_by_prompt_version_lists_the_runs_covering_each_item(described_lab, fits):
    lab, rep = described_lab
    run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1", "B1"])
    pts = project(lab, "title").points.set_index("sku")
    assert pts.loc["A1", "prompt_version"] == ("appearance@v1", "preference@v1")
    assert pts.loc["A2", "prompt_version"] == ("preference@v1",)


def test_maps_warmup_command_fits_a_tiny_map_without_opening_a_workspace(tmp_path, monkeypatch, fits, capsys):
    from core.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VITRINE_WORKSPACE", raising=False)
    assert main(["maps-warmup"]) == 0
    assert len(fits) == 1 and "cached" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # no ./workspace created


def test_prefit_fits_in_a_worker_and_project_reads_its_fit(described_lab, monkeypatch):
    lab, name = described_lab
    future = maps.prefit(lab, name)
    assert future is not None and maps.prefit(lab, name) is future  # one fit under way, not two
    monkeypatch.setattr(maps, "_fit", lambda *a, **k: pytest.fail("fitted again in this process"))
    projection = maps.project(lab, name)
    assert projection.points["sku"].tolist() == future.result().skus
    assert maps.prefit(lab, name) is None  # fitted already
