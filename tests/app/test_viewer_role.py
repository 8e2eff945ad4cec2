"""A signed-in viewer (a stakeholder demo) clicks a button that would change data: core refuses, the page says why,
and nothing changes. The Sign-in itself is Chromium against a real OIDC provider (test_sign_in_browser.py)."""

from streamlit.testing.v1 import AppTest

from core.access.actor import Actor, acting_as
from core.access.roles import Role, RoleMap, set_roles
from core.services import qa
from tests.app.conftest import ROOT, errors, shown

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test-only-secret",
        "client_id": "vitrine", "client_secret": "test-only", "server_metadata_url":
        "http://127.0.0.1:9/.well-known/openid-configuration"}


def _as(lab, email: str) -> tuple[AppTest, list[str]]:
    """The QA page as `email`, and what the account panel said on the first page (app.py's own run)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["lab"] = lab
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email}
    at.run()  # app.py first: its sign-in gate and account panel (a switch before the first run can skip them)
    panel = [shown(c.value) for c in at.sidebar.caption]
    return at.switch_page("pages/qa.py").run(), panel


def test_a_signed_in_viewer_is_refused_where_data_changes(described_lab):
    lab = described_lab.lab
    with acting_as(Actor("ana@shop.example", "sign-in")):
        set_roles(lab.store, RoleMap(Role.VIEWER, editors=("ana@shop.example",)))
    before = qa.reviews(lab.store)
    at, panel = _as(lab, "bob@shop.example")
    assert not at.exception
    assert panel == ["Signed in as bob@shop.example (viewer)"]
    at.button(key="qa_approve").click().run()
    assert any("bob@shop.example is a viewer" in e for e in errors(at))
    assert qa.reviews(lab.store).equals(before)

    editor, panel = _as(lab, "ana@shop.example")
    assert panel == ["Signed in as ana@shop.example (editor)"]
    editor.button(key="qa_approve").click().run()
    assert not errors(editor)
    assert (qa.reviews(lab.store)["status"] == "approved").sum() == 1
