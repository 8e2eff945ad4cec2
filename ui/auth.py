"""Sign-in with Streamlit's own OIDC (st.login / st.user): the gate before any page, and who core sees as acting."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from core.access.actor import ANONYMOUS, Actor, register_actor_source
from core.access.roles import role_of
from ui.state import get_lab
from ui.text import plain


def auth_section() -> dict:
    """The [auth] section of the secrets Streamlit read ({} when sign-in is not configured)."""
    try:
        return dict(st.secrets.get("auth", {}))
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}


def signed_in_actor() -> Actor | None:
    """Core's view of who is acting in this script run: the signed-in identity (its email), anonymous when sign-in
    is configured but nobody is signed in (or no session is at hand), None without sign-in (the OS user)."""
    if not auth_section():
        return None
    user = st.user
    if not user.get("is_logged_in"):
        return ANONYMOUS
    return Actor(str(user.get("email") or user.get("sub")), "sign-in")


def _provider(section: dict) -> str | None:
    """st.login's argument: None for a provider configured in [auth] itself, else the first [auth.NAME]."""
    if section.get("client_id"):
        return None
    return next((name for name, value in section.items() if isinstance(value, dict)), None)


def gate() -> None:
    """Before any page: make core see the signed-in user; a visitor who is not signed in gets only this page."""
    register_actor_source(signed_in_actor)
    section = auth_section()
    if not section or st.user.get("is_logged_in"):
        return

    def sign_in() -> None:
        st.title("Vitrine")
        st.write("Sign in to see this workspace.")
        st.button("Sign in", type="primary", on_click=st.login, args=(_provider(section),), key="auth_sign_in")

    # The only page there is: replaces the pages/ folder's navigation, so no page is listed or reachable by URL.
    st.navigation([st.Page(sign_in, title="Sign in", url_path="sign-in", default=True)], position="hidden").run()
    st.stop()


def account_panel() -> None:
    """Sidebar: who is signed in, their role here, and Sign out (only when sign-in is configured)."""
    actor = signed_in_actor()
    if actor is None or actor.anonymous:
        return
    with st.sidebar:
        st.caption(plain(f"Signed in as {actor.name} ({role_of(get_lab().store, actor).value})"))

        st.button("Sign out", on_click=st.logout, key="auth_sign_out")
