"""evaluate() on real LanceDB workspaces: one pool for all, history excluded, seeded, fusion tuned on validation."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from core.catalog.interactions import from_frame, read_csv
from core.catalog.store import now_iso
from core.cli.evaluate import add_evaluate_command
from core.errors import EvaluationError
from core.evaluation import protocol
from core.evaluation.baselines import VectorScorer, default_specs, evaluation_choices, parse_spec, pool_matrix
from core.evaluation.metrics import rank_order
from core.evaluation.protocol import evaluate
from core.evaluation.report import evaluate_to_workspace
from core.evaluation.splits import split_interactions
from core.represent.recommend import load_matrix, recommend
from core.represent.representations import build_title
from core.runs.prompt import run_prompt

GROUPS = ("shirts", "bags", "vases", "shoes")


@pytest.fixture
def toy_lab(lab):
    """60 items in 4 groups (the pool floor is 50); `good` vectors cluster by group, `bad` vectors are noise;
    60 loyal shoppers (above both shopper floors)."""
    rng = np.random.default_rng(0)
    skus = [f"{g[:3].upper()}{i:02d}" for g in GROUPS for i in range(15)]
    lab.store.upsert_items([{"sku": s, "title": s, "category": GROUPS[n // 15], "image_sha256": f"sha{s}",
                             "image_ext": "png", "extra": "{}", "added_at": now_iso()} for n, s in enumerate(skus)])
    centres = rng.normal(size=(4, 16))
    good = np.stack([centres[n // 15] + 0.3 * rng.normal(size=16) for n in range(60)])
    for name, vectors in (("good", good), ("bad", rng.normal(size=(60, 16)))):
        table = lab.store.register_representation(name, "description", 16)
        lab.store.upsert_vectors(table, 16, skus, [f"sha{s}" for s in skus], [""] * 60, vectors)
    rows = []
    for u in range(60):
        group = u % 4
        for t, item in enumerate(rng.choice(15, size=5, replace=False)):
            rows.append((f"U{u:02d}", skus[group * 15 + item], 1000 * u + t))
    return lab, from_frame(pd.DataFrame(rows, columns=["shopper_id", "sku", "timestamp"]), "toy log")


def test_good_representation_beats_noise_and_the_pool_is_shared(toy_lab):
    lab, log = toy_lab
    ev = evaluate(lab, log, representations=["random", "popularity", "good", "bad", "concat:good+bad",
                                             "mean:good+bad", "weighted:good+bad"], seed=1, n_resamples=300)
    assert ev.pool_size == ev.catalogue_size == 60 and ev.representation_sizes == {"good": 60, "bad": 60}
    assert ev.filter.shoppers_evaluated == 60
    assert len(ev.per_user) == 7 * 60
    everybody = frozenset(f"U{u:02d}" for u in range(60))
    assert set(ev.per_user.groupby("method")["shopper_id"].apply(frozenset)) == {everybody}  # same shoppers for all
    for row in ev.summary.dropna().itertuples():
        assert row.lo <= row.mean <= row.hi
    paired = ev.paired("good", "bad", "ndcg@10")
    assert paired.verdict == "a" and "good beats bad on NDCG@10" in paired.sentence()
    assert "n = 60 shoppers" in paired.sentence() and "a single comparison" in paired.sentence()
    # random's expected HitRate@5 with 56 candidates is 5/56 ≈ 0.09; the interval must be in that region
    assert ev.estimate("random", "hitrate@5").lo < 5 / 56 < ev.estimate("random", "hitrate@5").hi + 0.05
    family = ev.comparisons("good", "ndcg@10")
    assert [p.b for p in family] == [m for m in ev.methods if m != "good"]
    assert {p.family_size for p in family} == {6} and all(p.p_holm >= p.p_value for p in family)
    assert next(p for p in family if p.b == "bad").verdict == "a"
    assert ev.tuning["weighted:good+bad"]["weight"] >= 0.5  # the validation split prefers the good half
    assert ev.estimate("good", "recall@20").mean > ev.estimate("bad", "recall@20").mean
    cats = ev.by_category("ndcg@10")
    assert set(cats["category"]) == set(GROUPS) and cats["shoppers"].sum() == 7 * 60
    worst = ev.disagreements("good", "bad", "ndcg@10", n=5)
    assert len(worst) == 5 and (worst["difference"].abs().diff().dropna() <= 0).all()
    assert set(worst.columns) >= {"shopper_id", "good", "bad", "difference", "category", "test_skus"}
    assert ev.disagreements("good", "good").empty  # equal scores: nobody to show
    assert ev.default_pair() == ("good", "popularity")


def test_runs_are_deterministic_per_seed(toy_lab):
    lab, log = toy_lab
    kwargs = dict(representations=["random", "good"], split="random", n_resamples=100)
    a, b = evaluate(lab, log, seed=3, **kwargs), evaluate(lab, log, seed=3, **kwargs)
    c = evaluate(lab, log, seed=4, **kwargs)
    pd.testing.assert_frame_equal(a.per_user, b.per_user)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not a.per_user["test_skus"].equals(c.per_user["test_skus"])  # the seed drives the split
    assert a.config["seed"] == 3 and a.config["seed_streams"]["bootstrap"] == 4


def test_weighted_fusion_is_tuned_on_validation_only(toy_lab, monkeypatch):
    lab, log = toy_lab
    seen = []
    real_run = protocol._run

    def spy(scorer, phase, index, ks):
        seen.append((type(scorer).__name__, getattr(scorer, "weight", None), phase.targets))
        return real_run(scorer, phase, index, ks)

    monkeypatch.setattr(protocol, "_run", spy)
    ev = evaluate(lab, log, representations=["weighted:good+bad"], n_resamples=50)
    cut = split_interactions(log, "loo", set(log.frame["sku"]))
    valid_targets, test_targets = cut.phase("valid").targets, cut.phase("test").targets
    tuning_calls, final = seen[:-1], seen[-1]
    assert len(tuning_calls) == 11 and all(t == valid_targets for _, _, t in tuning_calls)
    assert final[2] == test_targets and final[1] == ev.tuning["weighted:good+bad"]["weight"]
    assert set(ev.tuning["weighted:good+bad"]["grid"]) == {str(w) for w in np.round(np.linspace(0, 1, 11), 2)}


def test_pool_is_the_intersection_and_history_never_ranks(stocked_lab):
    lab = stocked_lab
    lab.store.set_setting("active_provider", "fake")
    run_prompt(lab, lab.prompts.get("preference"), "fake")
    run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1", "A2", "A3", "B1", "B2"])  # no H1
    build_title(lab)
    log = read_csv(b"shopper_id,sku,timestamp\nS1,A1,1\nS1,A2,2\nS1,B1,3\nS2,B1,1\nS2,B2,2\nS2,A3,3\n"
                   b"S3,H1,1\nS3,A1,2\nS3,A3,3\n")
    names = default_specs(lab)
    pref = next(n for n in names if n.startswith("preference@"))
    choices = evaluation_choices(lab)
    app = next(n for n in choices.options if n.startswith("appearance@"))
    assert app not in names and [c.text() for c in choices.excluded] == [f"{app}: 5 of 6 items"]  # 5 of 6: partial
    assert names[:3] == ["random", "popularity", "title"]
    assert f"weighted:{pref}+title" in names  # no visual here, so the default run fuses with title
    with pytest.raises(EvaluationError, match=r"candidate pool has 5 SKUs \(of 6 in the catalogue\), limited by "
                                              rf"{app}: 5 of 6 items; comparing methods needs at least 50"):
        evaluate(lab, log, representations=["title", app], n_resamples=50)
    # the floors lowered on purpose, to inspect the pool on this six-item fixture
    ev = evaluate(lab, log, representations=["title", app], n_resamples=50, min_pool_items=1, min_shoppers=1)
    assert ev.pool_size == 5 and ev.representation_sizes == {"title": 6, app: 5}
    assert [c.text() for c in ev.limited_by] == [f"{app}: 5 of 6 items"]
    assert ev.excluded_lines() == []  # pref covers the catalogue: left out by choice, not for coverage
    assert ev.filter.outside_pool == 1 and ev.filter.shoppers_too_short == 1  # S3 lost H1
    # the engine's ranking is core.represent.recommend's: same top items for the same history
    m = load_matrix(lab, "title")
    history = ["A1", "A2"]
    rows = [m.index[s] for s in history]
    pooled = pool_matrix(m, m.skus)
    order = rank_order(VectorScorer(pooled).scores([history]), [np.array(rows)])[0]
    assert [m.skus[i] for i in order[:3]] == [r.sku for r in recommend(lab, history, 3, "title", explain=False)]
    assert not set(m.skus[i] for i in order[:4]) & set(history)


def test_bad_requests_are_explained(stocked_lab, lab):
    log = read_csv(b"shopper_id,sku,timestamp\nS1,A1,1\nS1,A2,2\nS1,B1,3\n")
    with pytest.raises(EvaluationError, match="two different representations"):
        parse_spec("mean:title+title")
    with pytest.raises(Exception, match="no representation named 'nope'"):
        evaluate(stocked_lab, log, representations=["nope"])
    with pytest.raises(EvaluationError, match="positive integers"):
        evaluate(stocked_lab, log, representations=["random"], ks=[0])
    with pytest.raises(EvaluationError, match=r"candidate pool has 6 SKUs \(of 6 in the catalogue\); .* at least 50"
                                              r".*Add items to the catalogue"):
        evaluate(stocked_lab, log, representations=["random", "popularity"], ks=[2])
    with pytest.raises(EvaluationError, match=r"only 1 shoppers can be evaluated .*at least 20 \(MIN_SHOPPERS\)"):
        evaluate(stocked_lab, log, representations=["random", "popularity"], ks=[2], min_pool_items=6)
    ev = evaluate(stocked_lab, log, representations=["random", "popularity"], ks=[2], n_resamples=20,
                  min_pool_items=6, min_shoppers=1)
    assert ev.pool_size == 6  # no vectors compared: the whole catalogue
    assert ev.metrics == ["recall@2", "precision@2", "ndcg@2", "map@2", "hitrate@2", "mrr", "coverage@2"]
    assert ev.primary_metric == "ndcg@2"
    assert ev.paired("random", "popularity").verdict == "insufficient"


def test_report_is_written_into_the_workspace(toy_lab):
    lab, log = toy_lab
    ev = evaluate_to_workspace(lab, log, representations=["popularity", "good"], seed=2, n_resamples=50)
    md, js = (lab.workspace.reports_dir / p.split("/")[-1] for p in ev.report_paths)
    text = md.read_text()
    assert "**Candidate pool: 60 of 60 catalogue SKUs, identical for every method.**" in text
    assert "Candidate pool: **60 SKUs** of 60 in the catalogue" in text and "seed **2**" in text and "| good |" in text
    assert "## Paired comparisons (NDCG@10; one family of 1, Holm-corrected)" in text
    assert "good beats popularity on NDCG@10" in text and "n = 60 shoppers" in text
    assert "a verdict needs ≥ 30 shoppers and Holm-adjusted p < 0.05" in text
    assert "| Precision@5 |" in text.replace("| method | Recall@5 ", "| ") and "MAP@10" in text
    assert "Reproduce: `vitrine evaluate" in text
    data = json.loads(js.read_text())
    assert data["pool_size"] == 60 and len(data["per_user"]) == 120
    assert data["pool"] == {"size": 60, "catalogue": 60, "note": ev.pool_note(), "limited_by": []}
    assert data["comparisons"][0]["verdict"] == "a" and data["comparisons"][0]["difference"]["n"] == 60
    assert {r["metric"] for r in data["summary"]} >= {"recall@5", "precision@5", "map@20", "ndcg@20", "mrr",
                                                      "coverage@10"}
    again = evaluate_to_workspace(lab, log, representations=["popularity"], seed=2, n_resamples=20)
    assert again.report_paths[0] != ev.report_paths[0]  # never overwrites


def _cli(lab, argv, capsys):
    """Parse like core.cli.main.build_parser does once `evaluate` is registered, then run the command."""
    parser = argparse.ArgumentParser(prog="python -m core")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace")
    add_evaluate_command(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(["evaluate", "--workspace", str(lab.workspace.root), *argv])
    args.fn(lab, args)
    return capsys.readouterr().out


def test_cli_prints_tables_and_writes_reports(toy_lab, capsys):
    lab, log = toy_lab
    log.frame[["shopper_id", "sku", "timestamp"]].to_csv(lab.workspace.interactions_csv, index=False)
    out = _cli(lab, ["--representations", "random,good,mean:good+bad", "--k", "5,10", "--seed", "7"], capsys)
    assert out.startswith("Candidate pool: 60 of 60 catalogue SKUs, identical for every method.")
    assert "K = 5: mean [95% bootstrap CI] n=shoppers" in out and "K = 10" in out and "K = 20" not in out
    assert "Precision@5" in out and "MAP@10" in out and "n=60" in out
    assert "one family of 2, Holm-corrected" in out and "across 2 comparisons" in out
    assert "beats random on NDCG@10 by" in out and "MRR" in out
    assert "60 shoppers evaluated" in out
    reports = sorted(p.name for p in lab.workspace.reports_dir.iterdir())
    assert len(reports) == 2 and reports[0].endswith("-loo-seed7.json")
    data = json.loads(_cli(lab, ["--representations", "popularity", "--json", "--split", "random"], capsys))
    assert data["config"]["split"] == "random" and data["pool_size"] == 60
    assert [r["method"] for r in data["summary"]][0] == "popularity" and "per_user" not in data


def test_cli_reads_other_sources_and_rejects_bad_arguments(toy_lab, tmp_path, capsys):
    lab, log = toy_lab
    inter = tmp_path / "x.inter"
    frame = log.frame.assign(x_label=0)
    frame.loc[frame.groupby("shopper_id").tail(1).index, "x_label"] = 2
    frame.rename(columns={"shopper_id": "userID", "sku": "itemID"})[["userID", "itemID", "x_label"]].to_csv(
        inter, sep="\t", index=False)
    out = _cli(lab, ["--mmrec", str(inter), "--split", "given", "--representations", "good"], capsys)
    assert "300 interactions, 60 shoppers" in out and "split given" in out
    with pytest.raises(SystemExit):
        _cli(lab, ["--k", "ten"], capsys)
    with pytest.raises(SystemExit):
        _cli(lab, ["--interactions", "a.csv", "--mmrec", "b.inter"], capsys)


def test_batching_does_not_change_results(toy_lab, monkeypatch):
    lab, log = toy_lab
    kwargs = dict(representations=["random", "popularity", "good", "mean:good+bad"], n_resamples=20, seed=5)
    whole = evaluate(lab, log, **kwargs)
    monkeypatch.setattr(protocol, "BATCH_CELLS", 40 * 7)  # 7 shoppers per batch instead of all 60
    pd.testing.assert_frame_equal(evaluate(lab, log, **kwargs).per_user, whole.per_user)
