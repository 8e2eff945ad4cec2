"""API-key resolution: explicit argument, then registered UI secrets, then environment variables."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.config import settings
from core.errors import ConfigError

ENV_VARS: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

# The UI edge registers st.secrets here; core never imports streamlit.
_secret_sources: list[Callable[[], Mapping[str, object]]] = []


def register_secret_source(source: Callable[[], Mapping[str, object]]) -> None:
    """Add a lookup (e.g. lambda: st.secrets) consulted after explicit keys and before env vars."""
    _secret_sources.append(source)


def find_key(provider: str, explicit: str | None = None) -> str | None:
    """Return the key for a provider, or None; never logs or stores it."""
    if explicit:
        return explicit
    var = ENV_VARS.get(provider)
    if var is None:
        return None
    for source in _secret_sources:
        try:
            value = source().get(var)
        except Exception:
            value = None
        if value:
            return str(value)
    return settings().variable(var)


def require_key(provider: str, explicit: str | None = None) -> str:
    key = find_key(provider, explicit)
    if not key:
        var = ENV_VARS.get(provider, f"{provider.upper()}_API_KEY")
        raise ConfigError(
            f"no API key for {provider}: set {var} in the environment or .streamlit/secrets.toml, "
            f"or pass --api-key"
        )
    return key
