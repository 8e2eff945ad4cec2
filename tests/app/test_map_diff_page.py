import io

import numpy as np
import pandas as pd
import pytest

from core.catalog.store import now_iso
from core.services.map_diff import map_diff
from tests.app.conftest import open_page
from tests.app.downloads import capture_downloads
from tests.unit.test_map_diff import AFTER, BEFORE, add_run
from ui.text import plain

PAGE = "pages/map_diff.py"


@pytest.fixture
def diff_lab(lab):
    """The constructed two-cluster case of the unit tests, plus X8 described under 'before' only."""
    lab.store.upsert_items([{"sku": s, "title": f"title {s}", "category": "shirts" if s[0] == "S" else "bags",
                             "image_sha256": f"sha{s}", "image_ext": "png", "extra": "{}", "added_at": now_iso()}
                            for s in [*BEFORE, "X8"]])
    add_run(lab, "before", BEFORE | {"X8": 45})
    add_run(lab, "after", AFTER)
    return lab


def pick_runs(at, k=3):
    at.selectbox(key="md_before").select("before")
    at.selectbox(key="md_after").select("after")
    return at.number_input(key="md_k").set_value(k).run()


def test_page_shows_coverage_churn_moved_items_and_an_items_neighbours(diff_lab, monkeypatch):
    downloads = capture_downloads(monkeypatch)
    at = pick_runs(open_page(diff_lab, PAGE))
    assert not at.exception and not at.error
    assert at.info[0].value == plain("Compared 8 of 9 catalogue items: those with a vector in both before and after. "
                                     "Neighbours are chosen among these 8 only.")
    assert [w.value for w in at.warning] == [plain("Left out: 1 item(s) only in before: X8")]
    churn = at.dataframe[0].value.set_index("category")
    assert churn.loc["shirts", "churn"] == pytest.approx(0.625) and churn.loc["bags", "churn"] == 0.0
    assert at.dataframe[1].value["sku"].iloc[0] == "S0"  # moved most first
    assert at.selectbox(key="md_item").value == "S0"  # the picker starts on the item that moved most
    old, new = at.dataframe[2].value, at.dataframe[3].value
    assert set(old["sku"]) == {"S1", "S2", "S3"} and set(old["change"]) == {"dropped"}
    assert set(new["sku"]) == {"B5", "B6", "B7"} and set(new["change"]) == {"new"}

    at.selectbox(key="md_item").select("S1").run()
    new = at.dataframe[3].value
    assert dict(zip(new["sku"], new["change"], strict=True)) == {"S2": "kept", "S3": "kept", "B4": "new"}

    mime, data = downloads["map-diff.csv"]
    assert mime == "text/csv"
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    expected = map_diff(diff_lab, "before", "after", k=3).items
    assert table["sku"].tolist() == expected["sku"].tolist() and len(table) == 8
    assert np.allclose(table["overlap"], expected["overlap"])


def test_the_same_run_twice_is_an_error_not_a_traceback(diff_lab):
    at = open_page(diff_lab, PAGE)
    at.selectbox(key="md_before").select("after")
    at.selectbox(key="md_after").select("after").run()
    assert not at.exception
    assert "pick two different runs" in at.error[0].value


def test_a_workspace_with_one_representation_says_what_to_do(stocked_lab):
    add_run(stocked_lab, "only", {s: i for i, s in enumerate(stocked_lab.store.items()["sku"])})
    at = open_page(stocked_lab, PAGE)
    assert not at.exception
    assert "describe the catalogue under a second prompt" in at.error[0].value
