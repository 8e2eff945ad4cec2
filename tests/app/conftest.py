"""AppTest harness: a small real-LanceDB workspace with fake describer and hash encoder, injected via session_state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lab import Lab
from core.runs.prompt import run_prompt
from core.safe_text import WORD_JOINER

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
def app_lab(described_lab) -> Lab:
    """described_lab also described under the other shipped prompt, appearance, plus interactions.csv."""
    lab = described_lab.lab
    run_prompt(lab, lab.prompts.get("appearance"), "fake")
    lab.workspace.interactions_csv.write_text(INTERACTIONS)
    return lab


def open_page(lab: Lab, page: str | None = None, timeout: float = 30) -> AppTest:
    """Run app.py (optionally switched to a page) against the given Lab."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["lab"] = lab
    if page:
        at.switch_page(page)
    return at.run()


def shown(value: str) -> str:
    """Text as the reader sees it: ui.text.plain escapes Markdown with backslashes and breaks autolinks with an
    invisible word joiner; the browser shows neither."""
    return re.sub(r"\\(.)", r"\1", value).replace(WORD_JOINER, "")


def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [shown(s.value) for s in at.success]
