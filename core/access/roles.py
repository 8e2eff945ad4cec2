"""Roles mapped from identity in the workspace settings, and the one guard every data-changing service calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase

from core.access import audit
from core.access.actor import Actor, current
from core.access.audit import Action
from core.access.storage import AccessStore
from core.errors import VitrineError

ROLES_SETTING = "roles"


class Role(StrEnum):
    VIEWER = "viewer"  # demos: looks, changes nothing
    EDITOR = "editor"  # ingest, describe, edit, review, vote, promote, delete, undo, restore


class PermissionDenied(VitrineError):
    """A viewer (or an anonymous visitor) asked to change data: refused in core, whatever the page showed."""


@dataclass(frozen=True)
class RoleMap:
    """Patterns (fnmatch, case-insensitive: 'ana@shop.com', '*@merch.shop.com') per role; viewers win over editors;
    anyone else gets `default`. The default map makes everyone an editor: one person on a laptop needs no setup."""

    default: Role = Role.EDITOR
    editors: tuple[str, ...] = field(default_factory=tuple)
    viewers: tuple[str, ...] = field(default_factory=tuple)

    def role_of(self, actor: Actor) -> Role:
        if actor.anonymous:
            return Role.VIEWER
        name = actor.name.lower()
        if any(fnmatchcase(name, p.lower()) for p in self.viewers):
            return Role.VIEWER
        if any(fnmatchcase(name, p.lower()) for p in self.editors):
            return Role.EDITOR
        return self.default

    def as_json(self) -> str:
        return json.dumps({"default": self.default.value, "editors": list(self.editors),
                           "viewers": list(self.viewers)})


def role_map(store: AccessStore) -> RoleMap:
    raw = store.get_setting(ROLES_SETTING, "")
    if not raw:
        return RoleMap()
    data = json.loads(raw)
    return RoleMap(Role(data.get("default", "editor")), tuple(data.get("editors", ())), tuple(data.get("viewers", ())))


def role_of(store: AccessStore, actor: Actor | None = None) -> Role:
    return role_map(store).role_of(actor or current())


def require(store: AccessStore, action: Action) -> Actor:
    """The guard: returns the acting editor, or raises PermissionDenied naming who, their role and the fix."""
    actor = current()
    if role_map(store).role_of(actor) is Role.EDITOR:
        return actor
    if actor.anonymous:
        raise PermissionDenied(f"sign in to {action.value}: a visitor who is not signed in can change nothing")
    raise PermissionDenied(f"{actor.name} is a viewer in this workspace, and {action.value} changes data: nothing "
                           f"was changed. An editor can grant the role with `vitrine roles --editor {actor.name}`")


def set_roles(store: AccessStore, roles: RoleMap) -> RoleMap:
    """Replace the workspace's role map (an editor's act, audited); refuses a map that locks every editor out."""
    actor = require(store, Action.ROLES)
    if roles.role_of(actor) is not Role.EDITOR:
        raise VitrineError(f"this map would make you ({actor.name}) a viewer, and then nobody here could change "
                           f"roles again: add --editor {actor.name}")
    store.set_setting(ROLES_SETTING, roles.as_json())
    audit.record(store, Action.ROLES, detail=roles.as_json())
    return roles
