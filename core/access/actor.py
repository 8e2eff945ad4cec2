"""The person behind the current request: set by the app from its sign-in, by the CLI from --user or the OS user."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A name the audit log and conflicts can show; `via` says how it was established (so the log says how far to
    trust it: a signed-in identity is verified, an OS or --user name is what the shell said)."""

    name: str
    via: str  # "sign-in" | "cli" | "os" | "anonymous"

    @property
    def anonymous(self) -> bool:
        return self.via == "anonymous"


ANONYMOUS = Actor("anonymous", "anonymous")  # not signed in where sign-in is required: may change nothing

_current: ContextVar[Actor | None] = ContextVar("vitrine_actor", default=None)
# The UI edge registers a lookup of its signed-in user here (it runs in each script thread, fragments included).
_source: list[Callable[[], Actor | None]] = []


def register_actor_source(source: Callable[[], Actor | None]) -> None:
    """Consulted when no actor was set in this context: the app's sign-in; None from it means the OS user."""
    _source[:] = [source]


def os_user() -> Actor:
    try:
        return Actor(getpass.getuser(), "os")
    except (OSError, KeyError):  # no login name (some containers): still attributable to the machine
        return Actor("unknown-os-user", "os")


def current() -> Actor:
    """The actor set in this context, else the registered source's, else whoever runs this process."""
    if (actor := _current.get()) is not None:
        return actor
    for source in _source:
        if (found := source()) is not None:
            return found
    return os_user()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run a block as `actor` (the CLI's --user, a test's viewer); the previous actor comes back afterwards."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
