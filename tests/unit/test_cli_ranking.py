"""`vitrine recommend|search`: a k beyond the catalogue is clamped with a note, k < 1 is an error, and a partial
representation says what it ranked over; the note goes to stderr so --json stays a list of objects."""

import json

import pytest

from core.cli import main as cli
from core.runs.prompt import run_prompt


@pytest.fixture
def run(described_lab, monkeypatch):
    """main() on the test workspace, with its fake describer and hash encoder (no model is loaded)."""
    monkeypatch.setattr(cli, "open_lab", lambda _workspace: described_lab.lab)

    def invoke(*argv: str) -> int:
        return cli.main([*argv, "--workspace", str(described_lab.lab.workspace.root)])

    return invoke


def test_recommend_with_a_huge_k_lists_every_candidate_and_says_so(run, capsys):
    assert run("recommend", "--history", "A1", "--k", "100000", "--json") == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 5 and {"sku", "score", "title"} <= set(rows[0])
    assert err.strip() == "note: k=100,000 is more than the 5 candidate(s): all 5 are ranked"


@pytest.mark.parametrize("command", [["search", "red shirt"], ["recommend", "--history", "A1"]])
def test_k_zero_is_an_error(run, capsys, command):
    assert run(*command, "--k", "0") == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "error: k must be at least 1 (got 0)"


def test_search_over_a_partial_representation_names_the_pool(run, described_lab, capsys):
    lab = described_lab.lab
    partial = run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=["A1", "B1"])
    assert run("search", "leather tote", "--k", "2", "--representation", partial.representation) == 0
    out, err = capsys.readouterr()
    assert {"A1", "B1"} >= {line.split()[0] for line in out.splitlines()[1:]}
    assert err.strip() == (f"note: ranked over 2 of 6 items: {partial.representation} covers only these, so "
                           "results can only come from them")
