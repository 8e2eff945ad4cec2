"""AppTest harness: a small real-LanceDB workspace with fake describer and hash encoder, injected via session_state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lab import Lab
from core.representations import build_title
from core.runs import run_prompt

ROOT = Path(__file__).resolve().parents[2]
INTERACTIONS = """shopper_id,sku,timestamp
S1,A1,2026-01-01T10:00:00Z
S1,A2,2026-01-02T10:00:00Z
S1,B1,2026-01-03T10:00:00Z
S2,B1,2026-01-01T10:00:00Z
S2,B2,2026-01-05T10:00:00Z
S3,H1,2026-02-01T10:00:00Z
S3,A3,2026-02-03T10:00:00Z
"""


@pytest.fixture
def app_lab(stocked_lab: Lab) -> Lab:
    """Small catalogue described by the fake describer under both shipped prompts, plus title vectors."""
    stocked_lab.store.set_setting("active_provider", "fake")
    for name in ("preference", "appearance"):
        run_prompt(stocked_lab, stocked_lab.prompts.get(name), "fake")
    build_title(stocked_lab)
    stocked_lab.workspace.interactions_csv.write_text(INTERACTIONS)
    return stocked_lab


def open_page(lab: Lab, page: str | None = None, timeout: float = 30) -> AppTest:
    """Run app.py (optionally switched to a page) against the given Lab."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["lab"] = lab
    if page:
        at.switch_page(page)
    return at.run()
