import io
import json

import numpy as np
import pandas as pd
import pytest

from core.cli.main import main
from core.services.ab import Side
from core.services.change_figures import frontier_figure
from core.services.flag_rate import flag_rate
from core.services.frontier import FrontierError, _within_noise, dominated, frontier, frontier_csv
from tests.frontier_runs import GOOD, NOISY, evaluated_runs, hosted


def test_dominated_on_known_points():
    # minimise both: (2,2) loses to (1,1); (1,2) loses to (1,1) on the second alone; equal points dominate neither
    points = [(1, 1), (2, 2), (1, 2), (0, 3), (1, 1)]
    assert dominated(points) == [False, True, True, False, False]
    assert dominated([(5.0, -0.2)]) == [False]


def test_price_per_thousand_skus_comes_from_recorded_tokens(described_lab):
    lab = described_lab.lab
    hosted(lab, "preference", "gpt-4o-mini")
    hosted(lab, "appearance", "mystery-1")
    runs = frontier(lab).runs.set_index("run")
    priced = runs.loc["preference@v1/openai/gpt-4o-mini"]
    assert priced["described"] == 6 and priced["input_tokens"] == 10 and priced["output_tokens"] == 20
    assert priced["sync_per_1k"] == pytest.approx(1000 * (10 * 0.15 + 20 * 0.60) / 1e6)  # prices.yaml gpt-4o-mini
    assert priced["batch_per_1k"] == pytest.approx(priced["sync_per_1k"] / 2)  # batch_discount 0.5
    unpriced = runs.loc["appearance@v1/openai/mystery-1"]
    assert np.isnan(unpriced["sync_per_1k"]) and "unknown price: openai/mystery-1" in unpriced["price_note"]
    local = runs.loc[GOOD]
    assert local["sync_per_1k"] == 0.0 and local["price_note"] == "free (runs locally)"
    assert np.isnan(local["batch_per_1k"])
    batch = frontier(lab, price="batch").runs.set_index("run")["cost_per_1k"]
    assert batch[GOOD] == 0.0  # no Batch API: placed at its sync price
    assert batch["preference@v1/openai/gpt-4o-mini"] == pytest.approx(priced["batch_per_1k"])
    assert frontier(lab).runs.set_index("run")["cost_per_1k"].equals(runs["sync_per_1k"])


def test_without_a_report_recall_is_not_measured_and_nothing_is_placed_on_that_chart(described_lab):
    f = frontier(described_lab.lab)
    assert f.report is None
    assert f.runs["recall"].isna().all() and f.runs["recall_dominated"].isna().all()
    assert (f.runs["recall_note"] == "not measured: not in the chosen evaluation report").all()
    assert (f.table()["Recall@10"] == "not measured: not in the chosen evaluation report").all()
    assert (f.table()["cost–recall"] == "not placed").all()
    assert f.notes()[0].startswith("Recall@10: no evaluation report in this workspace yet")


def test_flag_rate_is_qa_flag_rate_of_the_runs_current_descriptions(described_lab):
    lab = described_lab.lab
    row = frontier(lab).runs.set_index("run").loc[GOOD]
    expected = flag_rate(lab, Side(lab.prompts.get("preference@v1"), "fake", "fake-1"))
    assert (row["flag_rate"], row["flag_checked"]) == (expected.rate, expected.checked) and expected.checked == 6


@pytest.fixture
def evaluated(lab):
    return evaluated_runs(lab)


def test_recall_comes_from_one_report_and_the_worse_run_at_the_same_cost_is_dominated(evaluated):
    f = frontier(evaluated)
    runs = f.runs.set_index("run")
    assert f.report is not None and set(f.report.recall) == {GOOD, NOISY}
    assert runs.loc[GOOD, "recall"] == f.report.recall[GOOD]["mean"]
    assert runs.loc[GOOD, "recall"] > runs.loc[NOISY, "recall"]
    assert runs.loc[GOOD, "recall_lo"] <= runs.loc[GOOD, "recall"] <= runs.loc[GOOD, "recall_hi"]
    assert runs.loc[GOOD, "recall_n"] == 60
    assert runs.loc[GOOD, "sync_per_1k"] == runs.loc[NOISY, "sync_per_1k"] == 0.0
    assert runs.loc[GOOD, "recall_dominated"] is False and runs.loc[NOISY, "recall_dominated"] is True
    assert f.notes()[0].startswith(f"Recall@10 from {f.report.path.name} (loo split")


def test_a_named_report_or_price_that_does_not_exist_is_refused(evaluated):
    with pytest.raises(FrontierError, match=r"no evaluation report named 'nope.json'.*reports: evaluation-"):
        frontier(evaluated, report="nope.json")
    with pytest.raises(FrontierError, match="price must be one of sync, batch"):
        frontier(evaluated, price="spot")
    named = frontier(evaluated, report=frontier(evaluated).report.path.name)
    assert named.runs["recall"].notna().all()


def test_nothing_described_is_refused(stocked_lab):
    with pytest.raises(FrontierError, match="no successful descriptions"):
        frontier(stocked_lab)


def test_csv_is_formula_safe(described_lab):
    lab = described_lab.lab
    hosted(lab, "preference", "=cmd|' /C calc'!A0")
    frame = pd.read_csv(io.BytesIO(frontier_csv(frontier(lab))), encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in frame["model"].tolist()


def test_table_and_chart_show_the_frontier_and_say_what_is_not_measured(evaluated):
    f = frontier(evaluated)
    table = f.table().set_index("run")
    assert table.loc[GOOD, "cost–recall"] == "frontier" and table.loc[NOISY, "cost–recall"] == "dominated"
    assert table.loc[GOOD, "Recall@10"].endswith("n=60")
    assert table.loc[GOOD, "sync $ / 1,000 SKUs"] == "free (runs locally)"
    assert table.loc[GOOD, "batch $ / 1,000 SKUs"] == "no Batch API"
    traces = {t.name: [c[0] for c in t.customdata] for t in frontier_figure(f, "recall").data if t.name}
    assert traces == {"dominated": [NOISY], "on the frontier": [GOOD]}


def test_cli_prints_the_table_and_json(evaluated, capsys):
    assert main(["frontier", "--workspace", str(evaluated.workspace.root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recall@10 from evaluation-")
    # the CLI's workspace has no 'fake' describer registered: no price, so no place on a chart, and it says why
    assert "unknown provider 'fake'" in out and "not placed" in out and "n=60" in out
    assert main(["frontier", "--workspace", str(evaluated.workspace.root), "--json", "--price", "batch"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["price"] == "batch" and {r["run"] for r in data["runs"]} == {GOOD, NOISY}
    assert main(["frontier", "--workspace", str(evaluated.workspace.root), "--report", "nope.json"]) == 2
    assert "no evaluation report named 'nope.json'" in capsys.readouterr().err


def test_dominance_within_overlapping_intervals_is_said_to_be_no_verdict():
    runs = pd.DataFrame({"run": ["a", "b", "c"], "cost_per_1k": [0.0, 0.0, 1.0], "recall": [0.10, 0.08, 0.02],
                         "recall_lo": [0.07, 0.05, 0.01], "recall_hi": [0.13, 0.11, 0.03],
                         "recall_dominated": [False, True, True]})
    # b's interval overlaps a's (its only dominator); c's lies wholly below both a's and b's
    assert _within_noise(runs) == [False, True, False]
