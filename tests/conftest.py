"""Shared fixtures: a tmp_path workspace with real LanceDB, a hash encoder and a fake describer."""

from __future__ import annotations

import os
from typing import NamedTuple

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.catalog.ingest import ingest
from core.lab import Lab, open_lab
from core.nets.encoders import HashEncoder
from core.represent.representations import build_title
from core.runs.prompt import run_prompt
from tests.fakes import FakeDescriber, write_catalog

SMALL_CATALOG = [
    {"sku": "A1", "title": "Red Linen Shirt", "category": "apparel", "colour": "red", "style": "minimalist"},
    {"sku": "A2", "title": "Blue Linen Shirt", "category": "apparel", "colour": "blue", "style": "minimalist"},
    {"sku": "A3", "title": "Green Denim Jacket", "category": "apparel", "colour": "green", "style": "streetwear"},
    {"sku": "B1", "title": "Black Leather Tote", "category": "bags", "colour": "black", "style": "classic",
     "shape": "circle"},
    {"sku": "B2", "title": "Red Leather Tote", "category": "bags", "colour": "red", "style": "classic",
     "shape": "circle"},
    {"sku": "H1", "title": "Blue Ceramic Vase", "category": "home", "colour": "blue", "style": "rustic",
     "shape": "circle"},
]


@pytest.fixture
def fake_describer() -> FakeDescriber:
    return FakeDescriber()


@pytest.fixture
def lab(tmp_path, fake_describer) -> Lab:
    """An empty workspace: real LanceDB in tmp_path, hash encoder, fake describer registered as 'fake'."""
    return open_lab(tmp_path / "ws", encoder=HashEncoder(), describers={"fake": fake_describer})


@pytest.fixture
def stocked_lab(lab, tmp_path) -> Lab:
    """The small catalogue ingested (no descriptions yet)."""
    csv = write_catalog(tmp_path / "imgs", SMALL_CATALOG)
    report = ingest(lab.store, lab.images, [tmp_path / "imgs"], csv)
    assert report.accepted == len(SMALL_CATALOG), report.as_rows()
    return lab


class DescribedLab(NamedTuple):
    lab: Lab
    representation: str  # the description run's representation, e.g. preference@v1/fake/fake-1


@pytest.fixture
def described_lab(stocked_lab) -> DescribedLab:
    """stocked_lab described by the fake provider (made active) under the active prompt, preference@v1, plus
    title vectors; nothing is queued, so each text is the fake's deterministic '<title> <category> for preference'."""
    stocked_lab.store.set_setting("active_provider", "fake")
    run = run_prompt(stocked_lab, stocked_lab.active_prompt(), "fake")
    build_title(stocked_lab)
    return DescribedLab(stocked_lab, run.representation)


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory):
    """The full sample workspace built once per session by the real CLI (offline tagger, MiniLM, LanceDB)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("sample") / "ws"
    proc = subprocess.run([sys.executable, "-m", "core", "sample", "--workspace", str(root)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tiers as markers: integration tests load real models, servers or subprocesses (slow); browser tests drive
    Chromium. `make test` runs everything; `pytest -m "not slow and not browser"` is the quick loop."""
    for item in items:
        parts = item.path.parts
        if "integration" in parts or item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.slow)
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
