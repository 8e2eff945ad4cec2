import io
import json

import pandas as pd
import pytest

from core.services.frontier import frontier
from tests.app.conftest import open_page
from tests.app.downloads import capture_downloads
from tests.frontier_runs import GOOD, NOISY, evaluated_runs, hosted

PAGE = "pages/frontier.py"


@pytest.fixture
def evaluated(lab):
    return evaluated_runs(lab)


def traces(at, n):
    spec = json.loads(at.get("plotly_chart")[n].proto.spec)
    return {t["name"]: [c[0] for c in t["customdata"]] for t in spec["data"] if t.get("name")}


def test_runs_are_placed_greyed_when_dominated_and_downloadable(evaluated, monkeypatch):
    downloads = capture_downloads(monkeypatch)
    at = open_page(evaluated, PAGE)
    assert not at.exception and not at.error
    assert traces(at, 0) == {"dominated": [NOISY], "on the frontier": [GOOD]}
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["marker"]["color"] for t in spec["data"] if t.get("name") == "dominated"} == {"#b0b0b0"}
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[NOISY, "cost–recall"] == "dominated" and table.loc[GOOD, "Recall@10"].endswith("n=60")
    assert any(c.value.startswith("Recall@10 from evaluation") for c in at.caption)

    mime, data = downloads["frontier.csv"]
    assert mime == "text/csv"
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig").set_index("run")
    expected = frontier(evaluated).runs.set_index("run")
    assert set(rows.index) == {GOOD, NOISY}
    assert rows.loc[GOOD, "recall"] == pytest.approx(expected.loc[GOOD, "recall"])
    assert rows.loc[NOISY, "recall_dominated"]


def test_without_a_report_recall_reads_not_measured_and_prices_switch(described_lab):
    lab = described_lab.lab
    hosted(lab, "preference", "gpt-4o-mini")
    at = open_page(lab, PAGE)
    assert not at.exception
    table = at.dataframe[0].value.set_index("run")
    assert (table["Recall@10"] == "not measured: not in the chosen evaluation report").all()
    assert table.loc["preference@v1/openai/gpt-4o-mini", "sync $ / 1,000 SKUs"] == "$0.0135"
    assert traces(at, 0) == {"dominated": [], "on the frontier": []}  # nothing measured on recall: nothing placed
    at.radio(key="fr_price").set_value("batch").run()
    assert not at.exception
    assert "Batch price: runs whose provider has no Batch API are placed at their sync price (what they cost)." in \
        [c.value.replace("\\", "") for c in at.caption]
