"""Where a provider's requests go: its own API, the host its *_BASE_URL variable names, or a server the user named.

Keys, consent and prices all depend on that answer, so it is decided here once, from the URL alone.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from core.config import settings
from core.errors import ConfigError

Where = Literal["on this machine", "hosted API", "local server", "remote server"]


@dataclass(frozen=True)
class Home:
    """A hosted API: its host, and the variable that may point the provider's default elsewhere."""

    host: str
    base_url_var: str


HOMES: dict[str, Home] = {"openai": Home("api.openai.com", "OPENAI_BASE_URL"),
                          "anthropic": Home("api.anthropic.com", "ANTHROPIC_BASE_URL")}
LOCAL_NAMES = ("localhost", "host.docker.internal")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan")


def check_base_url(url: str) -> str:
    """A base URL fit to store and show: http(s), a host, no credentials (a key never lives in a URL)."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base URL {mask_url(url)!r} must look like http://HOST:PORT/v1")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"base URL {mask_url(url)!r} carries credentials; give the URL without them and the key "
                          "with --api-key or the connection's VITRINE_KEY_<NAME> (keys are never stored)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))


def mask_url(url: str) -> str:
    """The URL as it may be shown: credentials in it become ***."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def default_base_url(provider: str) -> str | None:
    """Where the provider's SDK sends requests when no base URL is given: the *_BASE_URL variable, else its API."""
    home = HOMES.get(provider)
    return settings().variable(home.base_url_var) if home else None


def _origin(url: str | None) -> tuple[str, int | None] | None:
    if not url:
        return None
    parts = urlsplit(url)
    try:
        return (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a malformed port
        return None


def is_official(provider: str, base_url: str | None) -> bool:
    """The provider's own hosted API (no base URL at all, or its host)."""
    home = HOMES.get(provider)
    origin = _origin(base_url)
    return home is not None and (origin is None or origin[0] == home.host)


def goes_home(provider: str, base_url: str | None) -> bool:
    """Whether the provider's own key may go to this URL: its API, or the host its *_BASE_URL variable names."""
    if provider not in HOMES:
        return False
    origin = _origin(base_url)
    return is_official(provider, base_url) or (origin is not None and origin == _origin(default_base_url(provider)))


def is_local(base_url: str | None) -> bool:
    """A server on this machine or its private network (loopback, RFC 1918, link-local, *.local names)."""
    host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    if not host:
        return False
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def where(provider: str, base_url: str | None, *, keyed: bool) -> Where:
    """Where images go: `keyed` providers call an API (keyless ones run on this machine)."""
    if not keyed:
        return "on this machine"
    effective = base_url or default_base_url(provider)
    if is_official(provider, effective):
        return "hosted API"
    return "local server" if is_local(effective) else "remote server"
