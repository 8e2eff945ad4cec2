"""The CLI end to end on the sample catalogue with the offline tagger, real MiniLM and real LanceDB."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import __version__

VITRINE = Path(sys.executable).parent / "vitrine"  # the console script `make install` puts beside the venv python


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def ws(sample_workspace):
    return str(sample_workspace)


def test_representations_side_by_side(ws):
    reps = {r["name"]: r for r in json.loads(cli("representations", "--workspace", ws, "--json").stdout)}
    assert {"title", "visual"} <= set(reps)
    runs = [r for r in reps.values() if r["kind"] == "description"]
    assert {r["name"].split("@")[0] for r in runs} == {"preference", "appearance"}
    assert all(r["count"] >= 190 for r in reps.values())
    assert reps["visual"]["dim"] == 1280 and runs[0]["dim"] == 384


def test_installed_command_works_from_any_directory(ws, tmp_path):
    """`vitrine` needs no checkout as its working directory: run it from an unrelated folder."""
    assert VITRINE.is_file(), "make install puts .venv/bin/vitrine there (pip install -e .)"
    run = lambda *args: subprocess.run([str(VITRINE), *args], cwd=tmp_path, capture_output=True, text=True,
                                       timeout=600)
    listed = run("representations", "--workspace", ws, "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {"title", "visual"} <= {r["name"] for r in json.loads(listed.stdout)}
    assert run("--version").stdout.strip() == f"vitrine {__version__}"
    helped = run("--help")
    assert helped.returncode == 0 and "usage: vitrine" in helped.stdout and " app" in helped.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


def test_recommend_excludes_history_and_sorts(ws):
    items = json.loads(cli("search", "leather bag", "--workspace", ws, "--json", "--k", "3").stdout)
    history = [i["sku"] for i in items[:2]]
    for rep in ("title", "visual", None):
        args = ["recommend", "--history", ",".join(history), "--k", "10", "--workspace", ws, "--json"]
        recs = json.loads(cli(*args, *(["--representation", rep] if rep else [])).stdout)
        assert len(recs) == 10
        assert not set(history) & {r["sku"] for r in recs}
        scores = [r["score"] for r in recs]
        assert scores == sorted(scores, reverse=True)
        assert all(r["title"] for r in recs)


def test_rerun_of_describe_makes_zero_calls(ws):
    out = cli("describe", "--prompt", "preference", "--workspace", ws).stdout
    assert " 0 described" in out and " 0 failed" in out


def test_errors_go_to_stderr_with_nonzero_exit(ws):
    proc = cli("recommend", "--history", "NOPE-1", "--workspace", ws, check=False)
    assert proc.returncode == 2
    assert "none of the history SKUs" in proc.stderr and proc.stdout == ""
    proc = cli("describe", "--provider", "nonesuch", "--workspace", ws, check=False)
    assert proc.returncode == 2 and "unknown provider 'nonesuch'" in proc.stderr
