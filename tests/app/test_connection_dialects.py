"""Each fake-server dialect through the app: Home's connection test (AppTest), real openai SDK over HTTP."""

from __future__ import annotations

import pytest

from core.describe.connections import Connection, add_connection
from core.lab import Lab
from core.testing.fake_lvlm import FakeLVLMServer
from tests.app.conftest import errors, open_page
from tests.integration.test_dialects_cli import COMPLETING


@pytest.mark.parametrize("dialect", [*COMPLETING, "html-200"])
def test_the_app_tests_a_connection_in_every_dialect(app_lab: Lab, dialect: str) -> None:
    with FakeLVLMServer(dialect=dialect) as server:
        add_connection(app_lab.store, Connection(name="local", provider="openai", model="llava:7b",
                                                 base_url=server.base_url_openai))
        at = open_page(app_lab, "pages/home.py")
        at.button(key="conn_test").click().run()
    assert not at.exception
    if dialect == "html-200":
        assert any("answered with an HTML page" in e for e in errors(at))
    else:
        assert not at.error, errors(at)
        assert any(t.value.startswith("Sent ") for t in at.text)
        assert any(m.label == "Latency" for m in at.metric)
