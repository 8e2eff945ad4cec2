"""A map's view file: a new process re-opens a map from it alone, and any write to the tables it was derived from
(items, descriptions, settings, the vectors) makes the next open show the change."""

import numpy as np
import pytest

import core.represent.map_points as map_points
import core.represent.maps as maps
from core.represent.maps import MapError, place, project
from core.represent.recommend import load_matrix
from core.runs.prompt import run_prompt


@pytest.fixture
def fits(monkeypatch):
    """Count real UMAP fits, starting from empty in-memory caches."""
    monkeypatch.setattr(maps, "_FITS", {})
    monkeypatch.setattr(maps, "_VIEWS", {})
    calls = []
    real = maps._fit
    monkeypatch.setattr(maps, "_fit", lambda *a, **k: calls.append(k) or real(*a, **k))
    return calls


def new_process():
    """What a fresh server process has: only the files under <workspace>/maps."""
    maps._FITS.clear()
    maps._VIEWS.clear()


def shown(points):
    return points.set_index("sku").sort_index()


def test_a_new_process_reopens_the_map_from_its_view_file_alone(described_lab, fits, monkeypatch):
    lab, rep = described_lab
    first = project(lab, rep)
    assert len(list((lab.workspace.root / "maps").glob("*.arrow"))) == 1
    new_process()
    with monkeypatch.context() as patch:
        patch.setattr(maps, "load_matrix", lambda *a: pytest.fail("read the vectors"))
        patch.setattr(map_points, "item_attributes", lambda *a: pytest.fail("re-derived the item columns"))
        again = project(lab, rep)
    assert len(fits) == 1 and again.key == first.key and again.n_neighbors == first.n_neighbors
    assert again.points.columns.tolist() == first.points.columns.tolist()
    assert shown(again.points).equals(shown(first.points))  # tuples of facet values, float64 x and y included
    assert shown(again.points).loc["A1", "style"] == ("minimalist",)
    vectors = load_matrix(lab, rep).vectors
    np.testing.assert_array_equal(place(again, vectors[:2] + 0.01), place(first, vectors[:2] + 0.01))


def test_an_edited_title_shows_on_the_next_open_without_a_refit(described_lab, fits, monkeypatch):
    lab, rep = described_lab
    before = project(lab, rep)
    row = lab.store.items().query("sku == 'A1'").iloc[0].to_dict()
    lab.store.upsert_items([{**row, "title": "Blue Wool Coat"}])
    assert project(lab, rep).points.set_index("sku").loc["A1", "title"] == "Blue Wool Coat"  # same process
    new_process()
    with monkeypatch.context() as patch:
        patch.setattr(maps, "load_matrix", lambda *a: pytest.fail("read the vectors for a title edit"))
        after = project(lab, rep)
    assert shown(after.points).loc["A1", "title"] == "Blue Wool Coat"
    assert len(fits) == 1 and after.key == before.key
    np.testing.assert_array_equal(shown(after.points)[["x", "y"]], shown(before.points)[["x", "y"]])
    new_process()
    with monkeypatch.context() as patch:  # and the refreshed columns were written back
        patch.setattr(map_points, "item_attributes", lambda *a: pytest.fail("re-derived the item columns"))
        assert shown(project(lab, rep).points).loc["A1", "title"] == "Blue Wool Coat"


def test_a_new_description_run_refreshes_the_prompt_versions_and_facets(described_lab, fits):
    lab, rep = described_lab
    assert shown(project(lab, "title").points).loc["A1", "prompt_version"] == ("preference@v1",)
    run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1"])
    assert shown(project(lab, "title").points).loc["A1", "prompt_version"] == ("appearance@v1", "preference@v1")
    new_process()
    assert shown(project(lab, "title").points).loc["A1", "prompt_version"] == ("appearance@v1", "preference@v1")
    assert len(fits) == 1


def test_new_vectors_are_fitted_again_in_this_process_and_the_next(described_lab, fits):
    lab, rep = described_lab
    before = project(lab, rep)
    m = load_matrix(lab, rep)
    table = lab.store.representation(rep)["table"]
    moved = m.vectors[m.index["B2"]][None] * -1.0
    lab.store.upsert_vectors(table, moved.shape[1], ["B2"], ["b2-sha"], ["b2-text"], moved)
    after = project(lab, rep)
    assert len(fits) == 2 and after.key != before.key
    new_process()
    assert project(lab, rep).key == after.key and len(fits) == 2  # the new fit's view


def test_placing_on_a_map_whose_vectors_changed_since_it_was_opened_is_an_error(described_lab, fits):
    lab, rep = described_lab
    project(lab, rep)
    new_process()
    opened = project(lab, rep)  # from the view: the vectors are read only when something is placed
    m = load_matrix(lab, rep)
    table = lab.store.representation(rep)["table"]
    lab.store.upsert_vectors(table, m.vectors.shape[1], ["B2"], ["b2-sha"], ["b2-text"], -m.vectors[[m.index["B2"]]])
    with pytest.raises(MapError, match="changed since its map was opened"):
        place(opened, m.vectors[:1])
    assert place(project(lab, rep), m.vectors[:1]).shape == (1, 2)  # opened again: placed on the new map


def test_an_unreadable_view_file_is_recomputed_not_an_error(described_lab, fits):
    lab, rep = described_lab
    first = project(lab, rep)
    [view] = (lab.workspace.root / "maps").glob("*.arrow")
    view.write_bytes(b"half a file")
    new_process()
    again = project(lab, rep)
    assert len(fits) == 1  # the coordinates came from the fit's own file
    assert shown(again.points).equals(shown(first.points))
    assert map_points.read_view(view) is not None  # written again


def test_prefit_skips_a_current_map_without_reading_its_vectors(described_lab, fits, monkeypatch):
    lab, rep = described_lab
    project(lab, rep)
    new_process()
    monkeypatch.setattr(maps, "load_matrix", lambda *a: pytest.fail("read the vectors"))
    assert maps.prefit(lab, rep) is None
