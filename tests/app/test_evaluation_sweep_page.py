"""Evaluation page: the accuracy-sweep curve appears when a sweep's results are in the workspace reports."""

from core.evaluation.sweep import ACCURACIES, BASELINES, METRICS, Comparison, Point, Sweep, write_sweeps
from tests.app.conftest import errors, open_page

PAGE = "pages/evaluation.py"
HEADING = "How accurate must a describer be?"


def sweep(split: str) -> Sweep:
    points = [Point(name, None, m, 0.05, 0.03, 0.07, 300) for m in METRICS for name in BASELINES]
    points += [Point(f"preference@v1/simulated/simulated-p{p:g}", p, m, 0.03 + 0.04 * p, 0.02 + 0.04 * p,
                     0.04 + 0.04 * p, 300) for m in METRICS for p in ACCURACIES]
    comparisons = [Comparison(p, b, m, 0.04 * p - 0.02, 0.04 * p - 0.03, 0.04 * p - 0.01, 0.01, 0.2, "tie",
                              "No clear difference.") for m in METRICS for p in ACCURACIES for b in BASELINES]
    return Sweep("preference@v1", split, 0, "Candidate pool: 200 of 200 catalogue SKUs, identical for every method.",
                 points, comparisons)


def test_no_sweep_no_curve(app_lab):
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert HEADING not in [h.value for h in at.subheader]


def test_the_sweep_curve_and_its_family_are_shown(app_lab):
    write_sweeps([sweep("loo"), sweep("random")], app_lab.workspace.reports_dir)
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert HEADING in [h.value for h in at.subheader]
    assert at.get("plotly_chart"), "the curve is drawn"
    table = at.dataframe[0].value
    assert len(table) == len(ACCURACIES) * len(BASELINES) and set(table["baseline"]) == set(BASELINES)
    assert list(table.columns) == ["p", "baseline", "simulated − baseline", "95% CI", "p value", "Holm p", "verdict"]
    split = next(s for s in at.selectbox if s.label == "Sweep split")
    split.set_value(1).run()
    assert not at.exception
    assert any(t.value.startswith("Prompt preference@v1, seed 0.") for t in at.text)


def test_an_unreadable_sweep_file_is_an_error_not_a_crash(app_lab):
    app_lab.workspace.reports_dir.mkdir(parents=True, exist_ok=True)
    (app_lab.workspace.reports_dir / "simulated-sweep.json").write_text('[{"prompt": "x"}]')
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert any("is not a sweep written by bench/simulated_sweep.py" in e for e in errors(at))
    assert at.multiselect[0].label == "Representations"  # the rest of the page is intact
