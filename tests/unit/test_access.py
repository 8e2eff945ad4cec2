"""Roles enforced in core services, the append-only audit log, and the CLI's audit, roles and --address refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.access.actor import ANONYMOUS, Actor, acting_as
from core.access.audit import AUDIT_TABLE, events, parse_since
from core.access.roles import PermissionDenied, Role, RoleMap, role_of, set_roles
from core.catalog.history import restore_version, table_history
from core.catalog.ingest import ingest
from core.cli.app import auth_configured, check_exposure, is_loopback
from core.cli.main import main
from core.errors import VitrineError
from core.services import qa, upkeep
from core.services.prompt_versions import save_prompt
from core.services.votes import record_vote, votes
from tests.fakes import write_catalog

ANA, BOB = Actor("ana@shop.example", "sign-in"), Actor("bob@shop.example", "sign-in")
TEAM = RoleMap(Role.VIEWER, editors=("*@shop.example",), viewers=("bob@shop.example",))


def _team(lab) -> None:
    with acting_as(ANA):
        set_roles(lab.store, TEAM)


def test_role_map_matches_patterns_viewers_win_and_anonymous_is_a_viewer():
    assert TEAM.role_of(ANA) is Role.EDITOR
    assert TEAM.role_of(Actor("BOB@shop.example", "sign-in")) is Role.VIEWER  # case-insensitive; viewers win
    assert TEAM.role_of(Actor("eve@elsewhere.example", "sign-in")) is Role.VIEWER  # the default
    assert RoleMap().role_of(Actor("laptop-user", "os")) is Role.EDITOR  # no setup for one person
    assert RoleMap().role_of(ANONYMOUS) is Role.VIEWER


def test_a_viewer_calling_services_directly_is_refused_and_nothing_changes(described_lab, tmp_path):
    lab = described_lab.lab
    _team(lab)
    key = qa.qa_table(lab).iloc[0]["key"]
    items_before, reviews_before = lab.store.items(), qa.reviews(lab.store)
    audit_before = len(events(lab.store))
    csv = write_catalog(tmp_path / "more", [{"sku": "N1", "title": "New Shirt", "category": "apparel"}])
    with acting_as(BOB):
        assert role_of(lab.store) is Role.VIEWER
        attempts = [
            lambda: upkeep.delete_items(lab, ["A1"]),
            lambda: upkeep.update_items(lab, [{"sku": "A1", "title": "Renamed", "category": "apparel"}]),
            lambda: qa.approve(lab, key),
            lambda: qa.flag(lab, key, "wrong colour"),
            lambda: qa.edit(lab, key, "a viewer's text"),
            lambda: record_vote(lab, "run-a", "run-b", "A1", "left", left="a"),
            lambda: ingest(lab.store, lab.images, [tmp_path / "more"], csv),
            lambda: set_roles(lab.store, RoleMap()),
            lambda: save_prompt(lab, "preference", "A viewer's prompt for {title}.", variables=["title"],
                                facets=["style"], max_words=30),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied, match="bob@shop.example is a viewer"):
                attempt()
    pd_equal = lab.store.items().equals(items_before) and qa.reviews(lab.store).equals(reviews_before)
    assert pd_equal
    assert votes(lab, "whatever").empty and len(events(lab.store)) == audit_before
    assert lab.store.get_setting("roles") == TEAM.as_json()
    assert [v.ref for v in lab.prompts.versions("preference")] == ["preference@v1"]


def test_a_saved_prompt_version_is_attributed(described_lab):
    lab = described_lab.lab
    with acting_as(ANA):
        saved = save_prompt(lab, "preference", "Describe {title} for a shopper.", variables=["title"],
                            facets=["style", "colour"], max_words=40, summary="shorter")
    last = events(lab.store).iloc[0]
    assert (last["actor"], last["action"], last["detail"]) == (ANA.name, "save prompt", f"saved {saved.ref}: shorter")


def test_anonymous_visitors_are_told_to_sign_in(described_lab):
    with acting_as(ANONYMOUS), pytest.raises(PermissionDenied, match="sign in to delete"):
        upkeep.delete_items(described_lab.lab, ["A1"])


def test_every_change_is_attributed_in_the_append_only_log(described_lab):
    lab = described_lab.lab
    _team(lab)
    key = qa.qa_table(lab).query("sku == 'A1'").iloc[0]["key"]
    with acting_as(ANA):
        qa.approve(lab, key)
        upkeep.delete_items(lab, ["B2"])
    log = events(lab.store)
    assert list(log["action"][:3]) == ["delete", "approve", "roles"]  # newest first
    assert set(log["actor"][:3]) == {"ana@shop.example"} and set(log["via"][:3]) == {"sign-in"}
    assert log.iloc[0]["skus"] == ["B2"]
    assert list(events(lab.store, sku="A1")["action"]) == ["approve", "ingest"]
    described = log[log["action"] == "describe"].iloc[-1]["detail"]  # the fixture's run: connection and cost
    assert "via fake/fake-1" in described and "$0.0060" in described and "connection fake/fake-1" in described

    assert events(lab.store, since=datetime(2999, 1, 1, tzinfo=UTC)).empty
    with pytest.raises(VitrineError, match="append-only"):
        restore_version(lab.store, AUDIT_TABLE, table_history(lab.store, AUDIT_TABLE)[0]["version"])


def test_a_qa_conflict_names_the_other_reviewer(described_lab):
    lab = described_lab.lab
    key = qa.qa_table(lab).iloc[0]["key"]
    opened = qa.qa_table(lab).iloc[0]["revision"]
    with acting_as(ANA):
        qa.edit(lab, key, "Ana's better text", revision=opened)
    with acting_as(Actor("carl@shop.example", "sign-in")), pytest.raises(qa.ReviewConflict, match="ana@shop.example"):
        qa.approve(lab, key, revision=opened)


def test_set_roles_refuses_to_lock_out_the_editor_making_the_change(lab):
    with acting_as(ANA), pytest.raises(VitrineError, match="add --editor ana@shop.example"):
        set_roles(lab.store, RoleMap(Role.VIEWER))


def test_parse_since_takes_dates_and_ages():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_since("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(VitrineError, match="neither a date"):
        parse_since("yesterday")


def test_cli_user_is_recorded_and_audit_filters_by_sku(described_lab, capsys):
    ws = str(described_lab.lab.workspace.root)
    assert main(["delete", "A1", "--workspace", ws, "--user", "dana"]) == 0
    assert main(["undo", "--workspace", ws, "--user", "erin"]) == 0
    capsys.readouterr()
    assert main(["audit", "--sku", "A1", "--json", "--workspace", ws]) == 0
    rows = json.loads(capsys.readouterr().out)
    who = [(r["action"], r["actor"], r["via"]) for r in rows]
    assert who[:2] == [("undo", "erin", "cli"), ("delete", "dana", "cli")]
    assert rows[2]["action"] == "ingest" and rows[2]["via"] == "os"  # the fixture's ingest: the OS user

    assert main(["audit", "--since", "soon", "--workspace", ws]) == 2


def test_cli_roles_then_a_viewer_is_refused_with_exit_2(described_lab, capsys):
    ws = str(described_lab.lab.workspace.root)
    assert main(["roles", "--default", "viewer", "--editor", "ana", "--workspace", ws, "--user", "ana"]) == 0
    assert main(["delete", "A1", "--workspace", ws, "--user", "bob"]) == 2
    assert "bob is a viewer" in capsys.readouterr().err
    assert "A1" in set(described_lab.lab.store.items()["sku"])


def test_app_refuses_a_non_loopback_address_without_auth(tmp_path, capsys):
    none = tmp_path / "none.toml"
    none.write_text('OPENAI_API_KEY = "x"\n')
    assert main(["app", "--address", "0.0.0.0", "--secrets", str(none)]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0" in err and "--insecure-no-auth" in err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("vitrine.internal")
    check_exposure("0.0.0.0", [none], insecure_no_auth=True)  # told so: allowed
    configured = tmp_path / "auth.toml"
    configured.write_text('[auth]\nredirect_uri = "http://h/oauth2callback"\ncookie_secret = "s"\nclient_id = "c"\n')
    assert auth_configured([none, configured]) and not auth_configured([none, tmp_path / "absent.toml"])
    check_exposure("10.0.0.5", [configured], insecure_no_auth=False)
