"""Home's Connections panel and the Prompt Lab's connection picker, driven through AppTest."""

from __future__ import annotations

import pytest

from core.describe import secrets
from core.describe.connections import Connection, add_connection, list_connections
from core.lab import Lab
from tests.app.conftest import open_page

LOCAL = "http://127.0.0.1:11434/v1"
HOME = "pages/home.py"  # opened by path: AppTest drops a form's submit on the default page


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "VITRINE_KEY_API"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(secrets, "_secret_sources", [])


def _describers(at) -> dict[str, str]:
    return {m.value.split("**")[1]: m.value for m in at.markdown if m.value.startswith(":material/")}


def test_a_base_url_alone_is_available_because_a_run_would_start(app_lab: Lab, monkeypatch) -> None:
    at = open_page(app_lab)
    openai = next(v for k, v in _describers(at).items() if k.startswith("OpenAI"))
    assert openai.startswith(":material/radio_button_unchecked:") and "OPENAI\\_API\\_KEY" in openai
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    at = open_page(app_lab)
    openai = next(v for k, v in _describers(at).items() if k.startswith("OpenAI"))
    assert openai.startswith(":material/check_circle:") and "no key needed" in openai


def test_adding_a_connection_lists_it_and_a_url_with_credentials_is_refused(app_lab: Lab) -> None:
    at = open_page(app_lab, HOME)
    at.text_input(key="conn_name").input("ollama")
    at.text_input(key="conn_model").input("llava:7b")
    at.text_input(key="conn_base_url").input("http://me:hunter2@127.0.0.1:11434/v1")
    at.button(key="conn_add_submit").click().run()
    assert any("carries credentials" in e.value for e in at.error)
    assert not any("hunter2" in e.value for e in at.error)
    assert list_connections(app_lab.store) == []
    at.text_input(key="conn_base_url").input(LOCAL)
    at.button(key="conn_add_submit").click().run()
    assert not at.exception and not at.error
    assert any("VITRINE\\_KEY\\_OLLAMA" in s.value for s in at.success)
    table = at.dataframe[-1].value
    row = table.set_index("name").loc["ollama"]
    assert (row["model"], row["server"], row["where"], bool(row["available"])) == (
        "llava:7b", LOCAL, "local server", True)
    assert not any("not an LVLM" in w.value for w in at.warning)  # a usable connection is a real LVLM


def test_removing_a_connection_needs_confirmation(app_lab: Lab) -> None:
    add_connection(app_lab.store, Connection(name="ollama", provider="openai", model="llava:7b", base_url=LOCAL))
    at = open_page(app_lab)
    assert at.button(key="conn_remove").disabled
    at.checkbox(key="conn_remove_sure").check().run()
    at.button(key="conn_remove").click().run()
    assert not at.exception and list_connections(app_lab.store) == []
    assert any("Removed ollama" in s.value for s in at.success)


def test_prompt_lab_offers_connections_and_says_when_one_cannot_run(app_lab: Lab) -> None:
    add_connection(app_lab.store, Connection(name="api", provider="openai", model="gpt-4o-mini"))
    add_connection(app_lab.store, Connection(name="ollama", provider="openai", model="llava:7b", base_url=LOCAL))
    at = open_page(app_lab, "pages/prompt_lab.py")
    picker = at.selectbox(key="pl_ab_B_provider")
    assert any(o.startswith("ollama (openai/llava:7b at http") and o.endswith("local server") for o in picker.options)
    picker.select("connection:api").run()
    assert any("VITRINE\\_KEY\\_API" in w.value for w in at.warning)
    at.selectbox(key="pl_ab_B_provider").select("connection:ollama").run()
    assert not [t for t in at.text_input if t.key == "pl_ab_B_model"]  # the connection brings its model
    assert any("no key needed" in c.value for c in at.caption)
