"""The README's CI recipe with the installed `vitrine` on the sample workspace: sync, evaluate gates, QA gate, and
the product copy export, each judged by its exit code and what it prints."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.describe.providers.offline import MODEL

VITRINE = Path(sys.executable).parent / "vitrine"
RUN = f"preference@v1/offline/{MODEL}"  # the sample's active run: the tagger's current revision


@pytest.fixture(scope="module")
def vitrine(sample_workspace, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("ci")  # run from an unrelated folder, as CI does

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(VITRINE), *args, "--workspace", str(sample_workspace)], cwd=cwd,
                              capture_output=True, timeout=600)

    return run


def test_evaluate_gates_pass_and_fail_by_exit_code(vitrine):
    assert vitrine("sync", "--yes").returncode == 0
    passed = vitrine("evaluate", "--k", "10", "--fail-under", "recall@10=0.01")
    assert passed.returncode == 0, passed.stderr.decode()[-2000:]
    assert f"gate passed: Recall@10 of {RUN} = " in passed.stdout.decode()
    failed = vitrine("evaluate", "--k", "10", "--fail-under", "recall@10=0.99", "--must-beat", "visual")
    assert failed.returncode == 1, failed.stderr.decode()[-2000:]
    gates = [line for line in failed.stdout.decode().splitlines() if line.startswith("gate ")]
    assert re.fullmatch(rf"gate FAILED: Recall@10 of {re.escape(RUN)} = \S+ \[\S+, \S+\] n=\d+ is below 0.99",
                        gates[0])
    assert len(gates) == 2 and "visual" in gates[1] and "NDCG@10" in gates[1]
    refused = vitrine("evaluate", "--k", "10", "--must-beat", "visual", "--gate-run", "nope")
    assert refused.returncode == 2 and "the gates need nope" in refused.stderr.decode()


def test_qa_gate_exits_1_above_the_rate_it_reports(vitrine):
    report = vitrine("qa")
    assert report.returncode == 0, report.stderr.decode()[-2000:]
    first = report.stdout.decode().splitlines()[0]
    flagged, checked = map(int, re.match(rf"{re.escape(RUN)}: (\d+) of (\d+) current descriptions", first).groups())
    assert checked == 200
    assert vitrine("qa", "--max-flag-rate", str(flagged / checked)).returncode == 0
    if flagged:
        below = vitrine("qa", "--max-flag-rate", str((flagged - 1) / checked))
        assert below.returncode == 1 and below.stdout.decode().splitlines()[-1].startswith("gate FAILED: flag rate")


def test_export_descriptions_to_stdout_and_parquet(vitrine, tmp_path):
    csv = vitrine("export", "descriptions", "--format", "csv")
    assert csv.returncode == 0, csv.stderr.decode()[-2000:]
    frame = pd.read_csv(io.BytesIO(csv.stdout), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(frame) == 200 and frame["sku"].is_unique and set(frame["run"]) == {RUN}
    assert frame["text"].str.len().min() > 0 and set(frame["status"]) == {"unreviewed"}
    approved = vitrine("export", "descriptions", "--approved", "--format", "jsonl")
    assert approved.returncode == 0 and approved.stdout == b""
    assert "200 item(s) are not approved in QA" in approved.stderr.decode()
    out = tmp_path / "copy.parquet"
    assert vitrine("export", "descriptions", "--format", "parquet", "--out", str(out)).returncode == 0
    assert pd.read_parquet(out)["sku"].tolist() == frame["sku"].tolist()
