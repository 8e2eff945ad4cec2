import io
import json

import numpy as np
import pandas as pd
import pytest

from core.catalog.store import now_iso
from core.cli.main import main
from core.services.map_diff import MapDiffError, map_diff, neighbourhoods, overlaps

# Eight items on the unit circle, two tight clusters: shirts S0-S3 at 0-3°, bags B4-B7 at 90-93°. Under "after", S0
# alone moves to 180°: its neighbours become the bags nearest it, S1-S3 swap S0 for B4, and the bags keep theirs.
BEFORE = {"S0": 0, "S1": 1, "S2": 2, "S3": 3, "B4": 90, "B5": 91, "B6": 92, "B7": 93}
AFTER = BEFORE | {"S0": 180}


def circle(degrees: list[float]) -> np.ndarray:
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def add_run(lab, name, angles, *, encoder="hash-2d"):
    skus = list(angles)
    table = lab.store.register_representation(name, "description", 2, encoder=encoder)
    lab.store.upsert_vectors(table, 2, skus, [f"sha{s}" for s in skus], [""] * len(skus),
                             circle(list(angles.values())))


@pytest.fixture
def two_runs(lab):
    skus = [*BEFORE, "X8", "X9"]  # X8 is described under "before" only, X9 under neither
    lab.store.upsert_items([{"sku": s, "title": f"title {s}", "category": "shirts" if s[0] == "S" else "bags",
                             "image_sha256": f"sha{s}", "image_ext": "png", "extra": "{}", "added_at": now_iso()}
                            for s in skus])
    add_run(lab, "before", BEFORE | {"X8": 45})
    add_run(lab, "after", AFTER)
    return lab


def test_overlap_and_churn_on_a_constructed_case(two_runs):
    diff = map_diff(two_runs, "before", "after", k=3)
    overlap = dict(zip(diff.items["sku"], diff.items["overlap"], strict=True))
    # S0: {S1,S2,S3} -> {B5,B6,B7}: nothing shared. S1-S3: 2 shared of 4 distinct. Bags: unchanged.
    assert overlap == pytest.approx({"S0": 0.0, "S1": 0.5, "S2": 0.5, "S3": 0.5,
                                     "B4": 1.0, "B5": 1.0, "B6": 1.0, "B7": 1.0})
    assert diff.items["sku"].iloc[0] == "S0"  # moved most first
    assert diff.items.set_index("sku").loc["S0", "self_cosine"] == pytest.approx(-1.0, abs=1e-6)
    assert diff.items.set_index("sku").loc["B4", "self_cosine"] == pytest.approx(1.0, abs=1e-6)
    churn = diff.categories.set_index("category")
    assert churn.loc["shirts", "mean_overlap"] == pytest.approx(0.375)
    assert churn.loc["shirts", "churn"] == pytest.approx(0.625)
    assert churn.loc["bags", "churn"] == pytest.approx(0.0)
    assert diff.categories["category"].tolist() == ["shirts", "bags"]  # most churned first
    assert diff.mean_overlap == pytest.approx((0 + 3 * 0.5 + 4) / 8)


def test_only_items_both_runs_cover_are_compared_and_the_rest_are_counted(two_runs):
    diff = map_diff(two_runs, "before", "after", k=3)
    cov = diff.coverage
    assert (cov.catalogue, cov.compared, cov.only_a, cov.only_b, cov.neither) == (10, 8, ("X8",), (), ("X9",))
    assert "X8" not in diff.skus and "X8" not in set(diff.neighbours_a.ravel().tolist())
    lines = cov.lines("before", "after")
    assert lines[0].startswith("Compared 8 of 10 catalogue items")
    assert "Left out: 1 item(s) only in before: X8" in lines and "Left out: 1 item(s) in neither: X9" in lines


def test_an_items_old_and_new_neighbours_say_what_changed(two_runs):
    old, new = map_diff(two_runs, "before", "after", k=3).neighbours("S1")
    assert dict(zip(old["sku"], old["change"], strict=True)) == {"S0": "dropped", "S2": "kept", "S3": "kept"}
    assert old["rank"].tolist() == [1, 2, 3] and old["sku"].iloc[2] == "S3"  # 2° away: third
    assert new["sku"].tolist() == ["S2", "S3", "B4"] and new["change"].tolist() == ["kept", "kept", "new"]
    assert new["cosine"].iloc[0] == pytest.approx(np.cos(np.radians(1)), abs=1e-6)
    with pytest.raises(MapDiffError, match="X8 is not among the 8 items"):
        map_diff(two_runs, "before", "after", k=3).neighbours("X8")


def test_different_vector_spaces_compare_neighbourhoods_only(two_runs):
    add_run(two_runs, "other-encoder", AFTER, encoder="another")
    diff = map_diff(two_runs, "before", "other-encoder", k=3)
    assert diff.items["self_cosine"].isna().all()
    assert "not one vector space" in diff.self_cosine_note
    assert diff.items["overlap"].min() == 0.0


def test_refusals_name_the_fix(two_runs):
    with pytest.raises(MapDiffError, match="two different runs"):
        map_diff(two_runs, "before", "before")
    with pytest.raises(MapDiffError, match=r"only 8 catalogue item\(s\) have vectors in both .* need at least 11"):
        map_diff(two_runs, "before", "after", k=10)


def test_ties_break_by_row_order_on_both_sides():
    same = np.ones((6, 4), np.float32) / 2
    idx, scores = neighbourhoods(same, 3)
    assert idx.tolist() == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2], [0, 1, 2]]
    assert np.allclose(scores, 1.0)
    overlap, shared = overlaps(np.array([[1, 2, 3]]), np.array([[3, 4, 5]]))
    assert overlap.tolist() == [0.2] and shared.tolist() == [1]


def test_csv_is_formula_safe(two_runs):
    two_runs.store.upsert_items([{"sku": "S1", "title": "=HYPERLINK(\"http://x\")", "category": "shirts",
                                  "image_sha256": "shaS1", "image_ext": "png", "extra": "{}", "added_at": now_iso()}])
    frame = pd.read_csv(io.BytesIO(map_diff(two_runs, "before", "after", k=3).csv()), encoding="utf-8-sig")
    assert frame.set_index("sku").loc["S1", "title"] == "'=HYPERLINK(\"http://x\")"
    assert list(frame.columns) == ["sku", "title", "category", "overlap", "shared", "self_cosine"]


def test_cli_lists_churn_and_an_items_neighbours(two_runs, capsys):
    ws = str(two_runs.workspace.root)
    assert main(["map-diff", "before", "after", "--k", "3", "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Compared 8 of 10 catalogue items") and "Left out: 1 item(s) only in before: X8" in out
    assert "shirts" in out and "0.625" in out  # the churn of the constructed case
    assert main(["map-diff", "before", "after", "--k", "3", "--sku", "S1", "--json", "--workspace", ws]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["change"] for r in data["after"]] == ["kept", "kept", "new"]
    assert main(["map-diff", "before", "--workspace", ws]) == 2
    assert "give both runs" in capsys.readouterr().err
