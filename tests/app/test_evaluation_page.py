"""Evaluation page: preselects full-coverage methods only, states the pool against the catalogue, refuses pools and
shopper counts below the floors, and reports every comparison with n and its Holm correction."""

import io
import json

import pandas as pd
import pytest

from core.evaluation.protocol import MIN_POOL_ITEMS
from tests.app.conftest import errors, open_page, shown
from tests.app.downloads import capture_downloads
from tests.evaluation_catalogue import ingested_catalogue
from ui.text import plain

PAGE = "pages/evaluation.py"
PREFERENCE = "preference@v1/fake/fake-1"
SAMPLE_RUN = "appearance@v1/fake/fake-1"  # described for 12 of the 60 items, like an A/B sample


@pytest.fixture
def eval_lab(lab, tmp_path):
    """60 ingested items in 4 categories, 60 category-loyal shoppers, a full run and a 12-item sample run."""
    ingested_catalogue(lab, tmp_path / "imgs")
    return lab


def run_evaluation(at):
    at.button(key="FormSubmitter:evaluate-Run evaluation").click().run()
    assert not at.exception, at.exception
    return at


def test_page_preselects_full_coverage_only_and_names_what_it_left_out(eval_lab):
    at = open_page(eval_lab, PAGE)
    assert not at.exception
    box = at.multiselect[0]
    assert box.label == "Representations" and SAMPLE_RUN in box.options and SAMPLE_RUN not in box.value
    assert {"random", "popularity", "title", PREFERENCE} <= set(box.value)
    assert any(t.value == f"{SAMPLE_RUN}: 12 of 60 items" for t in at.text)
    at = run_evaluation(at)
    assert not at.error
    texts = [t.value for t in at.text]
    assert "Candidate pool: 60 of 60 catalogue SKUs, identical for every method." in texts
    assert f"Left out:\n{SAMPLE_RUN}: 12 of 60 items — excluded; describe the rest to compare it" in texts
    table = at.dataframe[0].value
    assert {"popularity", "title", PREFERENCE} <= set(table["method"])
    cell = table.loc[table["method"] == "random", "recall@10"].iloc[0]
    assert cell.count("[") == 1 and cell.endswith("n=60")  # "mean [lo, hi] n=60"
    assert {"precision@10", "map@10"} <= set(table.columns)
    assert at.get("plotly_chart"), "the bar chart with CI whiskers is drawn"
    categories = at.dataframe[1].value
    assert {"category", "shoppers"} <= set(categories.columns) and categories["shoppers"].sum() == 60
    sentence = next(t for t in texts if " on NDCG@10" in t)  # the paired-comparison sentence
    assert "n = 60 shoppers" in sentence and "comparisons" in sentence
    family = at.dataframe[2].value
    assert list(family.columns) == ["B", "A − B", "95% CI", "n", "p", "Holm p", "verdict"]
    assert (family["n"] == 60).all() and (family["Holm p"] >= family["p"]).all()
    assert len(list(eval_lab.workspace.reports_dir.glob("evaluation-*.md"))) == 1


def test_picking_the_sample_run_is_refused_with_the_reason(eval_lab):
    at = run_evaluation(open_page(eval_lab, PAGE))  # a good result first: it must not survive a refused run
    at.multiselect[0].set_value(["random", "title", SAMPLE_RUN])
    at = run_evaluation(at)
    message = " ".join(e for e in errors(at))
    assert "candidate pool has 12 SKUs (of 60 in the catalogue)" in message
    assert f"limited by {SAMPLE_RUN}: 12 of 60 items" in message and f"at least {MIN_POOL_ITEMS}" in message
    assert not at.dataframe, "no table from this or an earlier run is shown"


def test_disagreement_opens_the_shopper_simulator(eval_lab):
    at = run_evaluation(open_page(eval_lab, PAGE))
    a_box, b_box = (s for s in at.selectbox if s.label in ("A", "B"))
    a_box.set_value("title")
    b_box.set_value("random")
    at.run()
    assert any(t.value.startswith("title beats random on NDCG@10") and "n = 60 shoppers" in t.value
               for t in at.text)
    opens = [b for b in at.button if b.label == "Open in Shopper Simulator"]
    assert opens, "title and random disagree on some shopper"
    shopper = opens[0].key.removeprefix("open_")
    held_out = next(t.value for t in at.text if t.value.startswith(f"{shopper}: ")).split("test: ")[-1].split()
    opens[0].click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Shopper simulator"
    assert at.radio[0].value == "Sample shopper"
    assert at.session_state["shopper_sample"] == shopper  # the simulator opened on that shopper
    # Observed: it opened without the compared representations and with the test item hidden in the history.
    assert at.selectbox(key="shopper_rep").value == "title"
    assert any("not a stored representation): random" in shown(c.value) for c in at.caption)  # said, not dropped
    history = eval_lab_history(eval_lab, shopper)
    assert at.expander[0].label == f"History: {len(history) - len(held_out)} item(s)"
    assert any(held_out[0] in shown(i.value) and "Held out by the evaluation" in shown(i.value) for i in at.info)
    assert any(c.value.startswith(plain(f"held-out {held_out[0]}: ")) for c in at.caption)
    assert len(at.dataframe[0].value) == 10 and not set(at.dataframe[0].value["sku"]) & (set(history) - set(held_out))
    assert not at.query_params  # applied once: later choices are the reviewer's
    at.switch_page("pages/shopper.py")  # the browser's URL is the simulator now (AppTest remembers Evaluation)
    at.selectbox(key="shopper_rep").set_value(PREFERENCE).run()
    assert at.selectbox(key="shopper_rep").value == PREFERENCE


def test_the_report_downloads_from_the_page(eval_lab, monkeypatch):
    files = capture_downloads(monkeypatch)
    at = run_evaluation(open_page(eval_lab, PAGE))
    assert {b.proto.label for b in at.download_button} == {
        "Download report (Markdown)", "Download report (JSON)", "Download per-shopper scores (CSV)"}
    [stored_md] = eval_lab.workspace.reports_dir.glob("evaluation-*.md")
    mime, markdown = files[stored_md.name]  # the download is named like the stored report
    assert mime == "text/markdown" and markdown.decode() == stored_md.read_text(encoding="utf-8")
    data = json.loads(files[stored_md.with_suffix(".json").name][1])
    assert data["pool_size"] == 60 and data["comparisons"]
    mime, raw = files[f"{stored_md.stem}-per-shopper.csv"]
    table = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert mime == "text/csv" and table["shopper_id"].nunique() == 60 and PREFERENCE in set(table["method"])


def eval_lab_history(lab, shopper: str) -> list[str]:
    log = pd.read_csv(lab.workspace.interactions_csv)
    return log[log["shopper_id"] == shopper].sort_values("timestamp")["sku"].tolist()


def test_uploaded_log_and_errors(eval_lab):
    log = eval_lab.workspace.interactions_csv.read_text()
    at = open_page(eval_lab, PAGE)
    at.radio[0].set_value("Upload a file")
    at = run_evaluation(at)
    assert any("Choose a file to upload" in e for e in errors(at))
    at.file_uploader[0].set_value(("log.csv", b"shopper_id,sku\nS1,A1\n", "text/csv"))
    at = run_evaluation(at)
    assert any("missing column(s) timestamp" in e for e in errors(at))
    few = "\n".join(log.splitlines()[: 1 + 5 * 12]) + "\n"  # 12 shoppers: below the floor of 20
    at.file_uploader[0].set_value(("log.csv", few.encode(), "text/csv"))
    at = run_evaluation(at)
    assert any("only 12 shoppers can be evaluated" in e and "at least 20" in e for e in errors(at))
    at.file_uploader[0].set_value(("log.csv", log.encode(), "text/csv"))
    at.multiselect[0].set_value(["random", "popularity"])
    at = run_evaluation(at)
    assert list(at.dataframe[0].value["method"]) == ["random", "popularity"]
