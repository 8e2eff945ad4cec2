"""Connections: stored without keys, keys routed only where they belong, runs remembering where they went,
availability that means a run would start, and prices that never borrow another model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli.main import main
from core.describe import secrets
from core.describe.connections import (
    Connection,
    add_connection,
    get_connection,
    learn,
    list_connections,
    remember,
    remove_connection,
    run_connection,
)
from core.describe.endpoints import is_local, mask_url
from core.describe.pricing import LOCAL_SERVER, no_price
from core.describe.providers.offline import MODEL
from core.describe.providers.sdk import NO_KEY
from core.errors import ConfigError
from core.lab import Lab
from core.runs.batch import estimate_cost
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.ab import SideSpec, compare, resolve_side, run_ab
from core.services.summary import connection_status, provider_status, workspace_summary
from core.services.sync import plan_run

LOCAL = "http://127.0.0.1:11434/v1"
KEY = "sk-test-openai-0123456789abcdef"
ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "VITRINE_KEY_BOX")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key or base URL from the machine running the tests, and no UI secrets registered by another test."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(secrets, "_secret_sources", [])


def box(**changes: object) -> Connection:
    return Connection(**{"name": "box", "provider": "openai", "model": "llava:7b", "base_url": LOCAL} | changes)


# --- the model ------------------------------------------------------------------------------------------------

def test_credentials_in_a_url_are_refused_and_never_echoed() -> None:
    with pytest.raises(ConfigError, match="carries credentials") as err:
        box(base_url="http://user:hunter2@10.0.0.5:8000/v1")
    assert "hunter2" not in str(err.value) and "***@10.0.0.5:8000" in str(err.value)
    assert mask_url("https://u:p@h.example/v1") == "https://***@h.example/v1"
    assert mask_url(LOCAL) == LOCAL


@pytest.mark.parametrize(("changes", "message"), [
    ({"base_url": "ftp://host/v1"}, "must look like http://HOST:PORT/v1"),
    ({"name": "My Box"}, "lowercase letters"),
    ({"model": ""}, "name the model"),
    ({"concurrency": 0}, "concurrency must be between 1 and 64"),
    ({"timeout": 0.0}, "timeout must be between 0 and 3600"),
])
def test_bad_settings_get_a_specific_error(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        box(**changes)


def test_a_base_url_is_normalised_and_local_hosts_are_recognised() -> None:
    assert box(base_url="http://127.0.0.1:11434/v1/").base_url == LOCAL
    assert [is_local(u) for u in (LOCAL, "http://localhost:1234/v1", "http://192.168.1.20:8000/v1",
                                  "http://gpu-box.local:8080/v1", "https://api.together.xyz/v1")] == [
        True, True, True, True, False]


# --- the table ------------------------------------------------------------------------------------------------

def test_add_list_get_remove_and_nothing_is_overwritten(lab: Lab) -> None:
    add_connection(lab.store, box(timeout=30.0, concurrency=2))
    add_connection(lab.store, box(name="api", model="gpt-4o-mini", base_url=""))
    assert [c.name for c in list_connections(lab.store)] == ["api", "box"]
    assert get_connection(lab.store, "box") == box(timeout=30.0, concurrency=2)
    with pytest.raises(ConfigError, match="already exists"):
        add_connection(lab.store, box(model="other"))
    assert get_connection(lab.store, "box").model == "llava:7b"
    with pytest.raises(ConfigError, match="runs on this machine"):
        add_connection(lab.store, Connection(name="tagger", provider="offline", model=MODEL))
    with pytest.raises(ConfigError, match="unknown provider"):
        add_connection(lab.store, box(name="nope", provider="nope"))
    remove_connection(lab.store, "box")
    with pytest.raises(ConfigError, match="no connection named 'box'; connections in this workspace: api"):
        get_connection(lab.store, "box")


def test_no_key_is_ever_written_to_the_workspace(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINE_KEY_BOX", KEY)
    add_connection(lab.store, box())
    connection = get_connection(lab.store, "box")
    remember(lab.store, connection, lab.describer(connection=connection))
    assert lab.key_route(connection).key == KEY
    leaks = [p for p in lab.workspace.root.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == []


# --- keys go only where they belong ---------------------------------------------------------------------------

def test_the_openai_key_never_goes_to_another_server(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    local = lab.describer("openai", model="llava:7b", base_url=LOCAL)
    assert local.client().api_key == NO_KEY
    hosted = lab.describer("openai", model="gpt-4o-mini")
    assert hosted.client().api_key == KEY and hosted.base_url is None
    official = lab.describer("openai", model="gpt-4o-mini", base_url="https://api.openai.com/v1")
    assert official.client().api_key == KEY


def test_the_openai_key_goes_to_the_host_openai_base_url_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.0.0.5:8000/v1")
    assert secrets.route_key("openai", None).key == KEY
    assert secrets.route_key("openai", "http://10.0.0.5:8000/other").key == KEY
    assert secrets.route_key("openai", "http://10.0.0.5:9000/v1").key is None  # another port: another server
    assert secrets.route_key("anthropic", "http://10.0.0.5:8000/v1").key is None


def test_a_connection_takes_its_own_key_from_secrets_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINE_KEY_BOX", "sk-env-box-key-1234567890")
    assert secrets.route_key("openai", LOCAL, connection="box").key == "sk-env-box-key-1234567890"
    secrets.register_secret_source(lambda: {"VITRINE_KEY_BOX": "sk-secret-box-key-1234567890"})
    route = secrets.route_key("openai", LOCAL, connection="box")
    assert (route.key, route.source) == ("sk-secret-box-key-1234567890", "VITRINE_KEY_BOX (secrets)")
    assert secrets.route_key("openai", LOCAL, connection="box", explicit="sk-given").key == "sk-given"
    assert secrets.connection_key_var("vllm-gpu") == "VITRINE_KEY_VLLM_GPU"


def test_only_the_hosted_api_requires_a_key() -> None:
    assert "set OPENAI_API_KEY" in secrets.route_key("openai", None).problem
    named = secrets.route_key("openai", "https://api.openai.com/v1", connection="box").problem
    assert "VITRINE_KEY_BOX" in named
    assert secrets.route_key("openai", LOCAL).problem == ""


@pytest.mark.parametrize("env", [{}, {"OPENAI_API_KEY": KEY}, {"OPENAI_BASE_URL": LOCAL},
                                 {"OPENAI_BASE_URL": "https://api.openai.com/v1"},
                                 {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"}, {"ANTHROPIC_API_KEY": KEY}])
def test_available_means_a_run_would_start(lab: Lab, monkeypatch: pytest.MonkeyPatch, env: dict) -> None:
    """Observed: OPENAI_BASE_URL alone showed "available" and every run failed with "no API key"."""
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    for status in provider_status():
        if status.name not in ("openai", "anthropic"):
            continue
        try:
            lab.describer(status.name, model="m").client()
            started = True
        except ConfigError:
            started = False
        assert status.available == started, (status, env)


def test_connection_status_says_where_and_whether_it_can_run(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    add_connection(lab.store, box())
    add_connection(lab.store, box(name="api", model="gpt-4o-mini", base_url=""))
    statuses = {s.connection.name: s for s in connection_status(lab)}
    assert (statuses["box"].where, statuses["box"].available) == ("local server", True)
    assert (statuses["api"].where, statuses["api"].available) == ("hosted API", False)
    assert "VITRINE_KEY_API" in statuses["api"].detail
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert all(s.available for s in connection_status(lab))


# --- a connection's options reach its describer ---------------------------------------------------------------

def test_a_connection_hands_its_settings_and_learnt_mode_to_the_describer(lab: Lab) -> None:
    describer = lab.describer(connection=box(timeout=12.5, item_deadline=40.0, image_max_side=768, detail="low",
                                             capabilities={"structured_mode": "json_object"}))
    assert (describer.base_url, describer.model, describer.timeout, describer.item_deadline) == (
        LOCAL, "llava:7b", 12.5, 40.0)
    assert (describer.image_max_side, describer.detail, describer.structured_mode) == (768, "low", "json_object")


def test_settings_round_trip_and_the_provider_checks_its_own(lab: Lab) -> None:
    stored = add_connection(lab.store, box(item_deadline=40.0, image_max_side=768, detail="high"))
    assert get_connection(lab.store, "box") == stored
    with pytest.raises(ConfigError, match="detail must be one of"):
        add_connection(lab.store, box(name="odd", detail="ultra"))
    assert [c.name for c in list_connections(lab.store)] == ["box"]


def test_a_rung_that_worked_is_learnt_by_the_named_connection(lab: Lab) -> None:
    add_connection(lab.store, box())
    describer = lab.describer(connection=get_connection(lab.store, "box"))
    describer.structured_mode = "prompt"  # what the first successful call settled on
    learn(lab.store, get_connection(lab.store, "box"), describer)
    assert get_connection(lab.store, "box").capabilities == {"structured_mode": "prompt"}


def test_a_base_url_without_a_model_or_for_a_local_provider_is_refused(lab: Lab) -> None:
    with pytest.raises(ConfigError, match="name the model"):
        lab.describer("openai", base_url=LOCAL)
    with pytest.raises(ConfigError, match="takes no base URL"):
        lab.describer("offline", base_url=LOCAL, model=MODEL)


# --- runs remember their connection ---------------------------------------------------------------------------

def test_a_run_remembers_its_connection_and_keeps_it_after_the_name_is_removed(stocked_lab: Lab) -> None:
    lab = stocked_lab
    add_connection(lab.store, box())
    assert run_connection(lab.store, "openai", "llava:7b") is None
    remember(lab.store, get_connection(lab.store, "box"), lab.describer(connection=get_connection(lab.store, "box")))
    assert lab.connection("openai", model="llava:7b") == box()
    assert lab.describer("openai", model="llava:7b").base_url == LOCAL  # a follow-up naming only provider/model
    remove_connection(lab.store, "box")
    assert lab.connection("openai", model="llava:7b").base_url == LOCAL
    assert lab.connection("openai", model="gpt-4o-mini").base_url == ""  # never run elsewhere: the default


def test_run_prompt_records_an_explicit_connection_and_uses_its_concurrency(stocked_lab: Lab, fake_describer) -> None:
    lab = stocked_lab
    run_prompt(lab, lab.prompts.get("preference"), connection=Connection(provider="fake", model="fake-1",
                                                                         base_url=LOCAL, concurrency=1))
    assert lab.connection("fake", model="fake-1").base_url == LOCAL
    assert len(fake_describer.calls) == 6


def test_home_names_the_connection_of_the_active_run(described_lab) -> None:
    lab = described_lab.lab
    assert workspace_summary(lab).active_provider == "fake/fake-1"  # a blank model named as the describer runs it
    remember(lab.store, Connection(provider="fake", model="fake-1", base_url=LOCAL), lab.describer("fake"))
    assert workspace_summary(lab).active_provider == f"fake/fake-1 via {LOCAL}"


def test_regenerate_with_a_blank_model_keeps_the_items_model(stocked_lab: Lab, fake_describer) -> None:
    lab = stocked_lab
    fake_describer.model = "fake-7b"
    run_prompt(lab, lab.prompts.get("preference"), "fake", model="fake-7b", skus=["A1"])
    report = qa.regenerate(lab, "A1", "appearance@v1", "fake", None)
    assert (report.provider, report.model) == ("fake", "fake-7b")


def test_a_missing_key_stops_a_run_before_any_work(stocked_lab: Lab) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "openai", model="gpt-4o-mini")
    assert stocked_lab.store.descriptions().empty


# --- honest costs ---------------------------------------------------------------------------------------------

def test_prices_never_borrow_another_models(monkeypatch: pytest.MonkeyPatch) -> None:
    assert no_price("openai", "llava:7b", "local server") == LOCAL_SERVER
    assert no_price("openai", "gpt-4o-mini", "local server") == LOCAL_SERVER  # a local copy is not OpenAI's bill
    assert no_price("openai", "gpt-9-preview", "hosted API") == "unknown price: openai/gpt-9-preview is not in " \
                                                                  "prices.yaml"
    assert no_price("openai", "gpt-4o-mini", "hosted API") == ""
    assert no_price("offline", MODEL, "on this machine") == ""


def test_the_estimate_before_a_run_says_local_server_or_names_the_unpriced_model(stocked_lab: Lab,
                                                                                 monkeypatch) -> None:
    lab, prompt = stocked_lab, stocked_lab.prompts.get("preference")
    remember(lab.store, box(), lab.describer(connection=box()))
    local = plan_run(lab, prompt, "openai", "llava:7b")
    assert not local.hosted  # nothing leaves the machine: no consent needed
    assert local.estimate().endswith("6 item(s) to describe via openai/llava:7b: local server — no price")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    unpriced = plan_run(lab, prompt, "openai", "gpt-9-preview")
    assert unpriced.hosted and unpriced.cost_usd is None
    assert "unknown price: openai/gpt-9-preview is not in prices.yaml" in unpriced.estimate()
    text = estimate_cost(lab, prompt, "openai", "gpt-9-preview").text()
    assert "openai/gpt-9-preview is not in prices.yaml" in text and "$" not in text
    assert "sync $" in estimate_cost(lab, prompt, "openai", "gpt-4o-mini").text()


def test_ab_costs_of_a_local_server_side_read_local_server(stocked_lab: Lab, fake_describer) -> None:
    lab = stocked_lab
    fake_describer.needs_key = True  # stands in for an API provider; its costs are recorded as $0.001 an item
    remember(lab.store, box(provider="fake", model="fake-1"), lab.describer("fake"))
    run = run_ab(lab, lab.store.items(), SideSpec("preference@v1", "fake"), SideSpec("appearance@v1", "fake"))
    result = compare(lab, lab.store.items(), run.side_a, run.side_b)
    assert result.a.cost_label == LOCAL_SERVER


def test_ab_side_through_a_connection_without_its_key_is_refused(stocked_lab: Lab) -> None:
    add_connection(stocked_lab.store, box(name="api", model="gpt-4o-mini", base_url=""))
    with pytest.raises(ConfigError, match="VITRINE_KEY_API"):
        resolve_side(stocked_lab, SideSpec("preference", "connection:api", connection="api"))
    add_connection(stocked_lab.store, box())
    side, connection, describer = resolve_side(stocked_lab, SideSpec("preference", "connection:box",
                                                                     connection="box"))
    assert (side.provider, side.model, connection.name, describer.base_url) == ("openai", "llava:7b", "box", LOCAL)


# --- the CLI --------------------------------------------------------------------------------------------------

def test_cli_refuses_bad_connections_and_conflicting_flags(lab: Lab, capsys, tmp_path: Path) -> None:
    ws = str(lab.workspace.root)
    assert main(["connection", "add", "box", "--provider", "openai", "--model", "m", "--base-url",
                 "http://me:hunter2@127.0.0.1:8000/v1", "--workspace", ws]) == 2
    err = capsys.readouterr().err
    assert "carries credentials" in err and "hunter2" not in err
    assert main(["connection", "list", "--workspace", ws]) == 0
    assert "no connections yet" in capsys.readouterr().out
    assert main(["connection", "add", "box", "--provider", "openai", "--model", "m", "--base-url", LOCAL,
                 "--workspace", ws]) == 0
    assert main(["describe", "--connection", "box", "--model", "other", "--workspace", ws]) == 2
    assert "drop --provider, --model and --base-url" in capsys.readouterr().err
    assert main(["connection", "list", "--workspace", str(tmp_path / "nowhere")]) == 2


def test_a_describer_built_without_a_lab_keeps_the_openai_key_for_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's own key never rides along to a third-party base URL, whoever builds the describer."""
    from core.describe.providers.openai_provider import OpenAIDescriber

    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-0123456789")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    third_party = OpenAIDescriber(model="llava:7b", base_url="http://127.0.0.1:9/v1")
    assert third_party.client().api_key != "sk-real-openai-key-0123456789"
    assert OpenAIDescriber(model="gpt-4o-mini").client().api_key == "sk-real-openai-key-0123456789"
