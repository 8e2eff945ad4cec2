"""Limits that stop runaway input with a message naming the limit: CLI numbers and search query length."""

import pytest

from core.cli.main import main
from core.errors import VitrineError
from core.represent.recommend import MAX_QUERY_CHARS, search


@pytest.mark.parametrize("flag, value, message", [
    ("--concurrency", "0", "argument --concurrency: 0 is out of range: use 1 to 64"),
    ("--concurrency", "65", "argument --concurrency: 65 is out of range: use 1 to 64"),
    ("--concurrency", "many", "argument --concurrency: 'many' is not a whole number: use 1 to 64"),
    ("--limit", "0", "argument --limit: 0 is out of range: use 1 or more"),
    ("--limit", "-5", "argument --limit: -5 is out of range: use 1 or more"),
])
def test_describe_refuses_out_of_range_numbers_before_touching_the_workspace(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as stop:
        main(["describe", flag, value, "--workspace", str(tmp_path / "ws")])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ws").exists()


def test_describe_accepts_the_edges_of_the_ranges():
    from core.cli.main import build_parser

    args = build_parser().parse_args(["describe", "--concurrency", "64", "--limit", "1"])
    assert (args.concurrency, args.limit) == (64, 1)
    assert build_parser().parse_args(["describe", "--concurrency", "1"]).concurrency == 1


def test_search_queries_longer_than_the_limit_are_refused(described_lab):
    lab, representation = described_lab
    assert search(lab, "x" * MAX_QUERY_CHARS, 3, representation)  # at the limit: searched
    with pytest.raises(VitrineError, match="search query is 1,001 characters; the limit is 1,000"):
        search(lab, "x" * (MAX_QUERY_CHARS + 1), 3, representation)
