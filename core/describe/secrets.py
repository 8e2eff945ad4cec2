"""API keys: found in an explicit argument, registered UI secrets or the environment, and sent only where they belong.

A provider's own key (OPENAI_API_KEY) goes to its API or to the host its *_BASE_URL variable names; a connection to
any other server takes its key from --api-key or its own VITRINE_KEY_<NAME>, so no key leaks to a third party.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.config import settings
from core.describe.endpoints import default_base_url, goes_home, is_official
from core.errors import ConfigError

ENV_VARS: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
CONNECTION_KEY_PREFIX = "VITRINE_KEY_"

# The UI edge registers st.secrets here; core never imports streamlit.
_secret_sources: list[Callable[[], Mapping[str, object]]] = []


def register_secret_source(source: Callable[[], Mapping[str, object]]) -> None:
    """Add a lookup (e.g. lambda: st.secrets) consulted after explicit keys and before env vars."""
    _secret_sources.append(source)


def lookup(var: str) -> tuple[str | None, str]:
    """A variable from the registered secrets, then the environment: (value, where it was found)."""
    for source in _secret_sources:
        try:
            value = source().get(var)
        except Exception:
            value = None
        if value:
            return str(value), f"{var} (secrets)"
    value = settings().variable(var)
    return value, (f"{var} (environment)" if value else "")


def find_key(provider: str, explicit: str | None = None) -> str | None:
    """Return the provider's own key, or None; never logs or stores it."""
    if explicit:
        return explicit
    var = ENV_VARS.get(provider)
    return lookup(var)[0] if var else None


def require_key(provider: str, explicit: str | None = None) -> str:
    key = find_key(provider, explicit)
    if not key:
        var = ENV_VARS.get(provider, f"{provider.upper()}_API_KEY")
        raise ConfigError(
            f"no API key for {provider}: set {var} in the environment or .streamlit/secrets.toml, "
            f"or pass --api-key"
        )
    return key


def connection_key_var(name: str) -> str:
    """The variable holding one connection's key: VITRINE_KEY_ plus the name upper-cased, '-' as '_'."""
    return CONNECTION_KEY_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


@dataclass(frozen=True)
class KeyRoute:
    """The key a request to one URL may carry (None: none), where it came from, and why a run cannot start."""

    key: str | None
    source: str
    problem: str = ""


def route_key(provider: str, base_url: str | None, *, connection: str = "", explicit: str | None = None) -> KeyRoute:
    """The key for requests to `base_url` (None: the provider's default endpoint): explicit, then the connection's
    own variable, then the provider's key only where that key belongs. A key is required only by the hosted API."""
    base_url = base_url or default_base_url(provider)
    if explicit:
        return KeyRoute(explicit, "--api-key")
    if connection:
        key, source = lookup(connection_key_var(connection))
        if key:
            return KeyRoute(key, source)
    var = ENV_VARS.get(provider)
    if var and goes_home(provider, base_url):
        key, source = lookup(var)
        if key:
            return KeyRoute(key, source)
    if var and is_official(provider, base_url):
        own = f", or {connection_key_var(connection)} for connection {connection!r}" if connection else ""
        return KeyRoute(None, "", f"no API key for {provider}: set {var} (environment or .streamlit/secrets.toml)"
                                  f"{own}, or pass --api-key")
    return KeyRoute(None, "no key (none needed)" if var else "")
