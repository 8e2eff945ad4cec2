"""The append-only audit log: who (identity and how it was established), when, what, on which SKUs.

There is deliberately no update or delete here, and `vitrine restore` refuses this table: the log only grows.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pandas as pd
import pyarrow as pa

from core.access.actor import current
from core.access.storage import AccessStore
from core.errors import VitrineError

AUDIT_TABLE = "audit_log"
AUDIT_SCHEMA = pa.schema([
    ("event_id", pa.string()),  # random: every record is a new row, never a merge onto an old one
    ("at", pa.string()),  # UTC ISO time to the microsecond: the log's order

    ("actor", pa.string()),
    ("via", pa.string()),  # sign-in | cli | os: how far the name can be trusted
    ("action", pa.string()),
    ("skus", pa.string()),  # JSON list ('[]': the action is workspace-wide)
    ("detail", pa.string()),
])
SHOWN_SKUS = 20  # a 5,000-item ingest lists this many SKUs in the log, then counts the rest


class Action(StrEnum):
    """What the audit log records; every one changes stored data, so each needs the editor role."""

    INGEST = "ingest"
    DESCRIBE = "describe"
    EDIT = "edit"
    APPROVE = "approve"
    FLAG = "flag"
    VOTE = "vote"
    PROMOTE = "promote"
    DELETE = "delete"
    UNDO = "undo"
    RESTORE = "restore"
    CONNECTION = "connection"
    PROMPT = "save prompt"
    ROLES = "roles"


def record(store: AccessStore, action: Action, *, skus: Iterable[str] = (), detail: str = "") -> dict:
    """Append one event for the current actor; the caller records after its change succeeded."""
    actor = current()
    listed = sorted(set(skus))
    if len(listed) > SHOWN_SKUS:
        detail = f"{detail} ({len(listed)} SKUs; the first {SHOWN_SKUS} are listed)".strip()
        listed = listed[:SHOWN_SKUS]
    row = {"event_id": secrets.token_hex(12), "at": datetime.now(UTC).isoformat(timespec="microseconds"),
           "actor": actor.name, "via": actor.via,
           "action": action.value, "skus": json.dumps(listed), "detail": detail}
    store.upsert_rows(AUDIT_TABLE, AUDIT_SCHEMA, [row], "event_id")
    return row


def events(store: AccessStore, *, sku: str | None = None, since: datetime | None = None) -> pd.DataFrame:
    """Events newest first, optionally only those naming `sku` or at/after `since`; `skus` as lists."""
    frame = store.frame(AUDIT_TABLE, AUDIT_SCHEMA)
    frame = frame.assign(skus=[json.loads(s or "[]") for s in frame["skus"]])
    if sku:
        frame = frame[[sku in listed for listed in frame["skus"]]]
    if since is not None:
        frame = frame[[datetime.fromisoformat(at) >= since for at in frame["at"]]]
    return frame.sort_values("at", ascending=False, kind="stable").drop(columns="event_id").reset_index(drop=True)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'2026-03-01', '2026-03-01T09:30', or an age: '90m', '24h', '7d' (UTC when no zone is given)."""
    text = text.strip()
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return (now or datetime.now(UTC)) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise VitrineError(f"--since {text!r} is neither a date/time (2026-03-01, 2026-03-01T09:30) nor an age "
                           "(90m, 24h, 7d)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
