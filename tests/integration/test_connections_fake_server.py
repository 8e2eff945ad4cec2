"""Connections over HTTP: a run's follow-ups go where the run went, and a key goes only where it belongs.

Two fake LVLM servers on 127.0.0.1: `local` is the server a run was made through; `home` stands in for
api.openai.com (OPENAI_BASE_URL points the provider's default at it, so nothing here can reach the internet).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.cli.main import main
from core.describe.connections import Connection, add_connection, get_connection
from core.lab import Lab
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.ab import promote
from core.services.coldstart import preview
from core.services.connection_check import try_connection
from core.services.sync import describe_queued
from core.testing.fake_lvlm import FakeLVLMServer
from tests.app.conftest import open_page
from tests.app.partial import add_unsynced_item
from tests.fakes import png_bytes

KEY = "sk-test-OPENAI-KEY-0123456789abcdef"
MODEL = "llava:7b"


class KeyRecordingServer(FakeLVLMServer):
    """The fake server, also noting each request's credentials (the shipped one never keeps them)."""

    def __init__(self) -> None:
        super().__init__()
        self.credentials: list[str] = []

    def record(self, path: str, body: object, headers: dict[str, str],
               consume_fault: bool = True) -> tuple[object, int]:
        lower = {k.lower(): v for k, v in headers.items()}
        self.credentials.append(lower.get("authorization", "") + lower.get("x-api-key", ""))
        return super().record(path, body, headers, consume_fault)


@pytest.fixture
def local() -> Iterator[KeyRecordingServer]:
    with KeyRecordingServer() as server:
        yield server


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyRecordingServer]:
    """The provider's default endpoint, with the real OpenAI key exported as a user would have it."""
    with KeyRecordingServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url_openai)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield server


def _solid(rgb: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _described(lab: Lab) -> set[str]:
    descs = lab.store.descriptions(provider="openai", model=MODEL)
    return set(descs.loc[descs["error"] == "", "image_sha256"])


def test_every_follow_up_of_a_local_run_goes_to_its_server_never_to_the_default(stocked_lab, local, home, tmp_path):
    """Observed: Regenerate, Retry failed, describe new items, cold start and Promote fell back to api.openai.com
    with OPENAI_API_KEY, so product images left for OpenAI although the run used a local server."""
    lab = stocked_lab
    prompt = lab.prompts.get("preference")
    local.inject("401")  # one item fails, for Retry failed
    report = run_prompt(lab, prompt, "openai", model=MODEL, base_url=local.base_url_openai, concurrency=1)
    assert (report.calls, report.failed) == (6, 1)

    sent = len(local.requests)
    qa.retry_failed(lab, "preference@v1", "openai", MODEL)  # QA: Retry failed items
    assert len(local.requests) == sent + 1 and len(_described(lab)) == 6

    sent = len(local.requests)
    qa.regenerate(lab, "A1", "appearance@v1", "openai", None)  # QA: another prompt, the model left blank
    assert len(local.requests) == sent + 1

    promote(lab, "preference@v1", "openai", MODEL)  # Prompt Lab: Promote (nothing left to describe)
    add_unsynced_item(lab, tmp_path / "new")
    sent = len(local.requests)
    describe_queued(lab)  # Catalog: describe new items (a local server needs no consent)
    assert len(local.requests) == sent + 1

    sent = len(local.requests)
    preview(lab, png_bytes("green", shape="circle"), "Green Wool Scarf", "accessories", k=3)  # Cold start
    assert len(local.requests) == sent + 1

    promote(lab, "appearance@v1", "openai", MODEL)  # Promote a run that still lacks most of the catalogue
    assert home.requests == []
    assert KEY not in " ".join(local.credentials)


def test_base_url_with_openai_key_exported_sends_no_key_to_that_server(stocked_lab, local, home, capsys):
    """Observed: `--base-url` with OPENAI_API_KEY exported sent the real OpenAI key to a third-party server."""
    code = main(["describe", "--workspace", str(stocked_lab.workspace.root), "--provider", "openai",
                 "--model", MODEL, "--base-url", local.base_url_openai, "--limit", "2"])
    assert code == 0, capsys.readouterr().err
    assert len(local.credentials) == 2
    assert not any(KEY in c for c in local.credentials)
    assert home.requests == []


def test_a_connection_key_comes_from_its_own_variable(stocked_lab, local, home, monkeypatch):
    add_connection(stocked_lab.store, Connection(name="box", provider="openai", model=MODEL,
                                                 base_url=local.base_url_openai))
    monkeypatch.setenv("VITRINE_KEY_BOX", "sk-box-only-key-987654321")
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), connection=get_connection(stocked_lab.store, "box"),
               limit=1)
    assert local.credentials == ["Bearer sk-box-only-key-987654321"]


def test_the_key_goes_to_the_host_openai_base_url_names(stocked_lab, home):
    """OPENAI_API_KEY belongs to api.openai.com or to the host OPENAI_BASE_URL names: a run there carries it."""
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "openai", model=MODEL, limit=1)
    assert home.credentials == [f"Bearer {KEY}"]


def test_connection_commands_add_list_test_remove(stocked_lab, local, home, capsys, tmp_path: Path):
    ws = str(stocked_lab.workspace.root)
    assert main(["connection", "add", "ollama", "--provider", "openai", "--model", MODEL, "--base-url",
                 local.base_url_openai, "--timeout", "30", "--item-deadline", "90", "--image-max-side", "768",
                 "--concurrency", "2", "--workspace", ws]) == 0
    assert "VITRINE_KEY_OLLAMA" in capsys.readouterr().out
    assert main(["connection", "list", "--json", "--workspace", ws]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["model"], c["base_url"], c["timeout"], c["item_deadline"], c["image_max_side"],
             c["concurrency"], c["where"], c["available"]) for c in listed] == [
        ("ollama", MODEL, local.base_url_openai, 30.0, 90.0, 768, 2, "local server", True)]
    image = tmp_path / "probe.png"
    image.write_bytes(png_bytes("blue"))
    assert main(["connection", "test", "ollama", "--image", str(image), "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert "reply:" in out and "latency:" in out and "ms" in out
    assert len(local.requests) == 1 and home.requests == []
    assert main(["connection", "list", "--json", "--workspace", ws]) == 0
    assert json.loads(capsys.readouterr().out)[0]["structured_mode"] == "json_schema"  # the rung that worked
    assert main(["connection", "remove", "ollama", "--workspace", ws]) == 0
    assert main(["connection", "test", "ollama", "--workspace", ws]) == 2
    assert "no connection named 'ollama'" in capsys.readouterr().err


def test_try_connection_returns_the_reply_and_its_latency(lab, local, home):
    add_connection(lab.store, Connection(name="box", provider="openai", model=MODEL, base_url=local.base_url_openai))
    check = try_connection(lab, "box")  # an empty workspace: a drawn swatch goes
    assert (check.image, check.connection.capabilities) == ("a drawn red swatch", {"structured_mode": "json_schema"})
    assert check.reply.strip() and check.latency_ms > 0
    uploaded = try_connection(lab, "box", _solid((40, 90, 210)), "blue.png")
    assert uploaded.image == "blue.png" and "blue" in uploaded.attributes.get("colour", [])
    assert len(local.requests) == 2 and home.requests == []
    assert lab.store.descriptions().empty  # a test stores nothing but what the connection learnt


def test_describe_with_connection_uses_its_concurrency_and_records_it(stocked_lab, local, home, capsys):
    ws = str(stocked_lab.workspace.root)
    assert main(["connection", "add", "box", "--provider", "openai", "--model", MODEL, "--base-url",
                 local.base_url_openai, "--workspace", ws]) == 0
    assert main(["describe", "--connection", "box", "--limit", "2", "--workspace", ws]) == 0
    assert len(local.requests) == 2
    qa.regenerate(stocked_lab, "A1", "appearance@v1", "openai", MODEL)
    assert len(local.requests) == 3 and home.requests == []
    assert main(["describe", "--connection", "box", "--base-url", "http://127.0.0.1:9/v1", "--workspace", ws]) == 2
    assert "--connection" in capsys.readouterr().err


def test_home_sends_one_image_and_shows_the_reply_and_the_latency(stocked_lab, local, home):
    add_connection(stocked_lab.store, Connection(name="box", provider="openai", model=MODEL,
                                                 base_url=local.base_url_openai))
    at = open_page(stocked_lab, "pages/home.py")
    at.button(key="conn_test").click().run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric if m.label == "Latency"][0].endswith(" ms")
    texts = [t.value for t in at.text]
    assert "Sent catalogue item A1 with the active prompt. Reply:" in texts
    assert len(local.requests) == 1 and home.requests == []
