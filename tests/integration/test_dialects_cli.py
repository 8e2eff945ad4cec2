"""Each fake-server dialect through `vitrine describe`, with the real openai SDK over HTTP on 127.0.0.1 (the app's
door: tests/app/test_connection_dialects.py)."""

from __future__ import annotations

import pytest

from core.cli.main import main
from core.lab import Lab
from core.testing.fake_lvlm import FakeLVLMServer

COMPLETING = ["openai", "lmstudio", "ollama", "llamacpp", "fenced-json", "prose-json", "streaming-only"]


@pytest.mark.parametrize("dialect", COMPLETING)
def test_the_cli_completes_a_run_in_every_dialect(stocked_lab: Lab, dialect: str, capsys) -> None:
    with FakeLVLMServer(dialect=dialect) as server:
        code = main(["describe", "--workspace", str(stocked_lab.workspace.root), "--provider", "openai",
                     "--model", "llava:7b", "--base-url", server.base_url_openai, "--concurrency", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    stored = stocked_lab.store.descriptions(provider="openai", model="llava:7b")
    assert len(stored) == 6 and (stored["error"] == "").all()
    assert "6 described, 0 failed" in out


def test_the_cli_names_the_fix_when_a_web_page_answers(stocked_lab: Lab, capsys) -> None:
    with FakeLVLMServer(dialect="html-200") as server:
        code = main(["describe", "--workspace", str(stocked_lab.workspace.root), "--provider", "openai",
                     "--model", "llava:7b", "--base-url", server.base_url_openai])
    assert code == 2
    assert "likely fix: the base URL is not the API" in capsys.readouterr().err
