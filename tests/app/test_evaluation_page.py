"""Evaluation page: renders, runs an evaluation on app_lab, shows table, chart, comparison and shopper links."""

from tests.app.conftest import open_page

PAGE = "pages/evaluation.py"
# eight shoppers with 3-4 interactions each over the six app_lab items
LOG = "shopper_id,sku,timestamp\n" + "\n".join(
    f"S{u},{sku},{t}" for u, skus in enumerate(["A1 A2 A3", "A2 A3 A1", "B1 B2 H1", "B2 B1 A1", "H1 A1 A2 B2",
                                                "A3 A1 A2", "B1 H1 B2", "A1 B1 A2 A3"])
    for t, sku in enumerate(skus.split())) + "\n"


def run_evaluation(at):
    at.button(key="FormSubmitter:evaluate-Run evaluation").click().run()
    assert not at.exception, at.exception
    return at


def test_page_renders_and_evaluates_the_workspace_interactions(app_lab):
    app_lab.workspace.interactions_csv.write_text(LOG)
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert at.multiselect[0].label == "Representations"
    assert "popularity" in at.multiselect[0].value and "title" in at.multiselect[0].value
    at = run_evaluation(at)
    table = at.dataframe[0].value
    assert "popularity" in set(table["method"]) and "title" in set(table["method"])
    assert table.loc[table["method"] == "random", "recall@10"].iloc[0].count("[") == 1  # "mean [lo, hi]"
    assert any("Candidate pool: 6 SKUs, identical for every method" in t.value for t in at.text)
    assert at.get("plotly_chart"), "the bar chart with CI whiskers is drawn"
    categories = at.dataframe[1].value
    assert {"category", "shoppers"} <= set(categories.columns)
    assert categories["shoppers"].sum() == 8
    assert any(" on NDCG@10" in t.value for t in at.text)  # the paired-comparison sentence
    reports = list(app_lab.workspace.reports_dir.glob("evaluation-*.md"))
    assert len(reports) == 1


def test_disagreement_opens_the_shopper_simulator(app_lab):
    app_lab.workspace.interactions_csv.write_text(LOG)
    at = run_evaluation(open_page(app_lab, PAGE))
    a_box, b_box = (s for s in at.selectbox if s.label in ("A", "B"))
    a_box.set_value("title")
    b_box.set_value("random")
    at.run()
    opens = [b for b in at.button if b.label == "Open in Shopper Simulator"]
    assert opens, "title and random disagree on some shopper"
    shopper = opens[0].key.removeprefix("open_")
    opens[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Shopper simulator"
    assert at.radio[0].value == "Sample shopper"
    assert at.session_state["shopper_sample"] == shopper  # the simulator opened on that shopper


def test_uploaded_log_and_errors(app_lab):
    at = open_page(app_lab, PAGE)
    at.radio[0].set_value("Upload a file")
    at = run_evaluation(at)
    assert any("Choose a file to upload" in e.value for e in at.error)
    at.file_uploader[0].set_value(("log.csv", b"shopper_id,sku\nS1,A1\n", "text/csv"))
    at = run_evaluation(at)
    assert any("missing column(s) timestamp" in e.value for e in at.error)
    at.file_uploader[0].set_value(("log.csv", LOG.encode(), "text/csv"))
    at.multiselect[0].set_value(["random", "popularity"])
    at = run_evaluation(at)
    assert list(at.dataframe[0].value["method"]) == ["random", "popularity"]
