"""CI gates: `vitrine evaluate --fail-under/--must-beat` and `vitrine qa --max-flag-rate` exit 1 with a line that
says why, and a gate that cannot be checked is refused (exit 2) instead of passing."""

from __future__ import annotations

import pytest

from core.cli import main as cli
from core.errors import VitrineError
from core.evaluation.protocol import evaluate
from core.runs.prompt import run_prompt
from core.services.flag_rate import flag_rate
from core.services.gates import Threshold, beat_gates, parse_threshold, planned_methods, threshold_gates
from core.services.runs import active_run, resolve_run
from tests.evaluation_catalogue import grouped_catalogue
from tests.fakes import FakeDescriber


@pytest.mark.parametrize(("text", "parsed"), [("recall@10=0.08", Threshold("recall@10", 0.08)),
                                              (" NDCG@20 = 0.1", Threshold("ndcg@20", 0.1)),
                                              ("mrr=0", Threshold("mrr", 0.0))])
def test_thresholds_parse(text, parsed):
    assert parse_threshold(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("recall@10", "expected METRIC@K=VALUE"), ("recall=0.1", "expected METRIC@K=VALUE"),
    ("coverage@10=0.5", "expected METRIC@K=VALUE"), ("recall@0=0.1", "expected METRIC@K=VALUE"),
    ("recall@10=high", "'high' is not a number"), ("recall@10=8", "write 8% as 0.08"),
])
def test_bad_thresholds_say_what_is_wrong(text, message):
    with pytest.raises(VitrineError, match=message):
        parse_threshold(text)


# --- evaluation gates ---------------------------------------------------------------------------------

@pytest.fixture
def grouped(lab):
    """60 items, 60 loyal shoppers: `good` clusters by group, `visual` less so, `bad` is noise."""
    return lab, grouped_catalogue(lab)


def test_a_threshold_gate_reports_the_metric_value_interval_and_n(grouped):
    lab, log = grouped
    ev = evaluate(lab, log, representations=["good", "visual"], ks=(10,), n_resamples=200)
    est = ev.estimate("good", "recall@10")
    passed, failed = threshold_gates(ev, "good", [Threshold("recall@10", est.mean), Threshold("ndcg@10", 0.999)])
    assert passed.passed and passed.text() == f"gate passed: Recall@10 of good = {est.cell()} ≥ {est.mean:g}"
    ndcg = ev.estimate("good", "ndcg@10")
    assert not failed.passed and failed.text() == f"gate FAILED: NDCG@10 of good = {ndcg.cell()} is below 0.999"


def test_must_beat_passes_only_on_a_significant_win_judged_as_one_family(grouped):
    lab, log = grouped
    ev = evaluate(lab, log, representations=["good", "visual", "bad"], ks=(10,), n_resamples=200)
    win, tie = beat_gates(ev, "good", ["bad", "visual"])
    assert win.passed and win.line.startswith("good beats bad on NDCG@10") and "across 2 comparisons" in win.line
    assert not tie.passed and tie.line.startswith("No clear difference between good and visual on NDCG@10")
    assert "not significant after Holm correction across 2 comparisons" in tie.line
    (loss,) = beat_gates(ev, "bad", ["visual"])
    assert not loss.passed and loss.line.startswith("visual beats bad on NDCG@10")


def test_must_beat_fails_when_too_few_shoppers_allow_a_verdict(lab):
    log = grouped_catalogue(lab, shoppers=24)
    ev = evaluate(lab, log, representations=["good", "visual"], ks=(10,), n_resamples=200)
    (gate,) = beat_gates(ev, "good", ["visual"])
    assert not gate.passed and "too few shoppers for a verdict (n = 24 < 30)" in gate.line


def test_a_gate_on_something_that_will_not_be_evaluated_is_refused_before_any_work(grouped):
    lab, _ = grouped
    with pytest.raises(VitrineError, match=r"the gates need nope, title, which will not be evaluated.*planned: "
                                           r"random, popularity, visual, bad, good, concat:bad\+visual"):
        planned_methods(lab, "all", "nope", [], ["title"], (10,))
    with pytest.raises(VitrineError, match="K = 20 is not among the cut-offs --k 5,10"):
        planned_methods(lab, ["good", "visual"], "good", [Threshold("recall@20", 0.1)], [], (5, 10))
    with pytest.raises(VitrineError, match="compares the gated run with itself"):
        planned_methods(lab, ["good", "visual"], "good", [], ["good"], (10,))
    assert planned_methods(lab, ["good", "visual"], "good", [], ["visual"], (10,)) == ["good", "visual"]


@pytest.fixture
def evaluate_cli(grouped, monkeypatch, tmp_path):
    """`vitrine evaluate` on the grouped catalogue, its log written as a CSV."""
    lab, log = grouped
    csv = tmp_path / "log.csv"
    log.frame[["shopper_id", "sku", "timestamp"]].to_csv(csv, index=False)
    monkeypatch.setattr(cli, "open_lab", lambda _workspace: lab)
    return lambda *argv: cli.main(["evaluate", "--interactions", str(csv), "--k", "10", "--representations",
                                   "good,visual,bad", *argv, "--workspace", str(lab.workspace.root)])


def test_evaluate_exits_1_naming_the_failed_gate_and_0_when_all_pass(evaluate_cli, capsys):
    assert evaluate_cli("--gate-run", "good", "--fail-under", "recall@10=0.99", "--must-beat", "bad") == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("gate ")]
    assert lines[0].startswith("gate FAILED: Recall@10 of good = ") and lines[0].endswith("is below 0.99")
    assert " n=60 " in lines[0] and lines[1].startswith("gate passed: good beats bad on NDCG@10")
    assert evaluate_cli("--gate-run", "good", "--fail-under", "recall@10=0.01", "--must-beat", "bad") == 0
    assert evaluate_cli("--gate-run", "good", "--must-beat", "visual") == 1  # no clear difference: not a win
    assert evaluate_cli("--gate-run", "bad", "--must-beat", "visual", "--json") == 1
    assert '"passed": false' in capsys.readouterr().out


def test_evaluate_gates_default_to_the_active_run_and_refuse_it_unevaluated(evaluate_cli, grouped, capsys):
    lab, _ = grouped
    lab.store.set_setting("active_provider", "fake")
    assert evaluate_cli("--must-beat", "visual") == 2
    err = capsys.readouterr().err
    assert "error: the gates need preference@v1/fake/fake-1, which will not be evaluated" in err
    assert not list(lab.workspace.reports_dir.glob("*")), "refused before the evaluation ran"
    assert evaluate_cli("--gate-run", "good") == 2
    assert "add --fail-under or --must-beat" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_cli("--fail-under", "recall@10")
    assert "expected METRIC@K=VALUE" in capsys.readouterr().err


# --- the QA flag-rate gate ------------------------------------------------------------------------------

GOOD = "A calm everyday piece for slow weekends at home, number {}."


@pytest.fixture
def flagged(stocked_lab):
    """A one-facet prompt described for the six items: three good texts, one short, one refusal, one failure;
    plus a seventh item without a description."""
    lab = stocked_lab
    prompt = lab.prompts.save("gate", "Describe the {title}.", variables=["title"], facets=["style"], max_words=40)
    lab.store.set_setting("active_prompt", prompt.ref)
    lab.store.set_setting("active_provider", "fake")
    lab.describer_overrides["fake"] = FakeDescriber(
        [(GOOD.format(n), {"style": ["classic"]}) for n in range(3)]
        + [("Nice item.", {"style": ["classic"]}),
           ("I'm sorry, I cannot describe this product photo for you today.", {"style": ["classic"]}),
           RuntimeError("provider down")])
    run_prompt(lab, prompt, "fake")
    b2 = lab.store.items().set_index("sku").loc["B2"].to_dict()
    lab.store.upsert_items([{**b2, "sku": "B3", "title": "Tan Leather Tote"}])
    return lab


def test_flag_rate_counts_current_successful_descriptions_and_names_the_common_flags(flagged):
    rate = flag_rate(flagged, active_run(flagged))
    assert (rate.checked, rate.flagged, rate.failed, rate.undescribed) == (5, 2, 1, 1)
    assert rate.lines() == ["gate@v1/fake/fake-1: 2 of 5 current descriptions auto-flagged (40.0%, n = 5)",
                            "not checked: 1 failed description(s)",
                            "not checked: 1 item(s) without a description",
                            "most common flags: refusal text ×1; very short text ×1"]
    assert rate.gate(0.4).passed and rate.gate(0.4).text() == "gate passed: flag rate 40.0% ≤ 40.0% (2 of 5)"
    assert rate.gate(0.39).text() == "gate FAILED: flag rate 40.0% > 39.0% (2 of 5)"


def test_a_run_without_successful_descriptions_cannot_pass(stocked_lab):
    stocked_lab.describer_overrides["fake"] = FakeDescriber([RuntimeError("down")] * 6)
    report = run_prompt(stocked_lab, stocked_lab.active_prompt(), "fake")
    with pytest.raises(VitrineError, match="no successful descriptions under preference@v1/fake/fake-1"):
        flag_rate(stocked_lab, resolve_run(stocked_lab, report.representation))


@pytest.fixture
def qa_cli(flagged, monkeypatch):
    monkeypatch.setattr(cli, "open_lab", lambda _workspace: flagged)
    return lambda *argv: cli.main(["qa", *argv, "--workspace", str(flagged.workspace.root)])


def test_qa_command_prints_the_rate_and_exits_1_above_the_threshold(qa_cli, capsys):
    assert qa_cli("--max-flag-rate", "0.05") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "gate@v1/fake/fake-1: 2 of 5 current descriptions auto-flagged (40.0%, n = 5)"
    assert out[-1] == "gate FAILED: flag rate 40.0% > 5.0% (2 of 5)"
    assert qa_cli("--max-flag-rate", "0.5", "--run", "gate@v1/fake/fake-1") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "gate passed: flag rate 40.0% ≤ 50.0% (2 of 5)"
    assert qa_cli() == 0  # without a threshold it only reports
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("gate ")]
    assert qa_cli("--run", "gate@v1/fake/other") == 2
    assert "no descriptions under gate@v1/fake/other; runs with descriptions: gate@v1/fake/fake-1" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        qa_cli("--max-flag-rate", "5")
    assert "write 5% as 0.05" in capsys.readouterr().err
