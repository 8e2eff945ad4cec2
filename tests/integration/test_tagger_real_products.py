"""The offline tagger beats majority-class guessing on real product photos (skips where they are absent)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "real_products"

pytestmark = pytest.mark.skipif(not (DATA / "labels.csv").exists(), reason="../shared/real_products not found")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("tagger_accuracy", ROOT / "bench" / "tagger_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pairs(bench):
    return bench.run(DATA)[0]


@pytest.mark.parametrize(("attribute", "name"), [
    ("Colour", "exact"), ("Colour", "near (same family)"), ("Product type", "vs articleType"),
    ("Category", "vs masterCategory"),
])
def test_beats_the_majority_baseline(bench, pairs, attribute, name):
    metric = next(m for m in bench.METRICS if (m.attribute, m.name) == (attribute, name))
    accuracy, balanced = bench.accuracy(metric, pairs)
    _, base_accuracy, base_balanced = bench.majority(metric, [row for row, _ in pairs])
    assert accuracy > base_accuracy and balanced > base_balanced


def test_report_renders_a_markdown_table(bench, pairs):
    report = bench.report(pairs, seconds=1.0)
    assert "| Colour | exact |" in report and "Majority baseline" in report


@pytest.fixture(scope="module")
def report_half(bench):
    return bench.measure(DATA)["report"]


def test_descriptions_do_not_repeat_on_the_report_half(report_half):
    for group in ("apparel + footwear", "accessories", "all"):
        assert report_half.values[group]["duplicates: preference"] < 0.05, group
        assert report_half.values[group]["ties: preference"] <= 0.05, group


def test_accessories_are_typed_on_the_report_half(report_half):
    assert report_half.values["accessories"]["type accuracy: category hint"] >= 0.6


def test_preference_neighbours_come_within_a_tenth_of_visual(report_half):
    values = report_half.values["all"]
    assert values["P@10: visual"] - values["P@10: preference"] <= 0.10


def test_usage_is_said_only_where_it_beats_always_casual(report_half):
    values = report_half.values["all"]
    assert values["usage: share said"] < 1.0
    assert values["usage: precision where said"] >= values["usage: always 'Casual' there"]
