"""What the download buttons hand the browser: the Evaluation report (Markdown, JSON, per-shopper CSV) and the A/B
results with their votes, built in core as bytes, CSV formula-safe."""

import io
import json

import pandas as pd

from core.catalog.ingest import ingest
from core.evaluation.protocol import evaluate
from core.evaluation.report import per_shopper_csv, report_stem, to_json, to_markdown, write_report
from core.services.ab import SideSpec, compare, run_ab
from core.services.ab_report import results_csv, results_frame, results_markdown
from core.services.votes import record_vote
from tests.evaluation_catalogue import grouped_catalogue
from tests.fakes import write_catalog

HOSTILE = {"sku": "Z9", "title": "=HYPERLINK(\"http://x\") | tote", "category": "bags", "colour": "red"}


def test_evaluation_downloads_match_the_stored_report_and_the_csv_is_formula_safe(lab, tmp_path):
    log = grouped_catalogue(lab)
    ev = evaluate(lab, log, representations=["random", "good"], seed=3, n_resamples=50)
    md, js = write_report(ev, tmp_path / "reports")
    assert md.read_text(encoding="utf-8") == to_markdown(ev) and js.read_text(encoding="utf-8") == to_json(ev)
    assert md.stem == report_stem(ev) and report_stem(ev).endswith("-loo-seed3")
    assert json.loads(to_json(ev))["comparisons"][0]["difference"]["n"] == ev.filter.shoppers_evaluated

    raw = per_shopper_csv(ev)
    assert raw.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    table = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False)
    assert len(table) == len(ev.per_user) and set(table["method"]) == {"random", "good"}
    assert {"shopper_id", "test_skus", "ndcg@10"} <= set(table.columns)

    hostile = ev.per_user.assign(shopper_id="=2+5")  # ids come from an uploaded log
    ev.per_user = hostile
    assert set(pd.read_csv(io.BytesIO(per_shopper_csv(ev)), encoding="utf-8-sig")["shopper_id"]) == {"'=2+5"}


def test_ab_results_carry_both_sides_and_every_vote(described_lab, tmp_path):
    lab = described_lab.lab
    assert ingest(lab.store, lab.images, [tmp_path / "h"], write_catalog(tmp_path / "h", [HOSTILE])).accepted == 1
    items = lab.store.items()
    sample = items[items["sku"].isin(["A1", "A2", "B1", HOSTILE["sku"]])]
    run = run_ab(lab, sample, SideSpec("preference@v1", "fake"), SideSpec("appearance@v1", "fake"))
    result = compare(lab, sample, run.side_a, run.side_b)
    record_vote(lab, run.side_a.run, run.side_b.run, "A1", "left", "b")  # B shown left and chosen
    record_vote(lab, run.side_a.run, run.side_b.run, "A2", "right", "b")  # A on the right chosen
    record_vote(lab, run.side_a.run, run.side_b.run, "B1", "tie", "a")

    frame = results_frame(lab, result).set_index("sku")
    assert frame.loc["A1", ["votes A", "votes B", "ties"]].tolist() == [0, 1, 0]
    assert frame.loc["A2", ["votes A", "votes B", "ties"]].tolist() == [1, 0, 0]
    assert frame.loc["B1", ["votes A", "votes B", "ties"]].tolist() == [0, 0, 1]
    assert frame.loc[HOSTILE["sku"], ["votes A", "votes B", "ties"]].tolist() == [0, 0, 0]
    assert frame.loc["A1", "A text"] == "Red Linen Shirt apparel for preference"
    assert frame.loc["A1", "B text"] == "Red Linen Shirt apparel for appearance"
    assert set(frame["run B"]) == {run.side_b.run}

    csv = pd.read_csv(io.BytesIO(results_csv(lab, result)), encoding="utf-8-sig")
    hostile = csv[csv["sku"] == HOSTILE["sku"]].iloc[0]
    assert hostile["title"] == "'" + HOSTILE["title"]  # a spreadsheet shows it, never runs it
    assert csv["votes B"].sum() == 1 and csv["ties"].sum() == 1

    text = results_markdown(lab, result)
    assert f"- A: `{run.side_a.run}`" in text and f"- B: `{run.side_b.run}`" in text
    assert "B win rate (non-tie votes): 50% (95% Wilson CI" in text and "1 B / 1 A / 1 ties" in text
    assert "=HYPERLINK(\"http://x\") \\| tote" in text  # a '|' in a title cannot break the table
    assert "| A1 | Red Linen Shirt | 0 | 1 | 0 |" in text
