"""Undo through LanceDB versions: list a table's history, restore a version (as a new version)."""

from __future__ import annotations

import json

from core.catalog.store import Store
from core.errors import VitrineError


def table_history(store: Store, table: str) -> list[dict]:
    """Versions of one table, oldest first, with row counts from the manifest."""
    t = store.open_table(table)
    if t is None:
        raise VitrineError(f"no table named {table!r}; tables: {', '.join(sorted(store.table_names()))}")
    return [{"version": v["version"], "timestamp": v["timestamp"].isoformat(timespec="seconds"),
             "rows": int(v["metadata"].get("total_rows", 0)), "current": v["version"] == t.version}
            for v in t.list_versions()]


def restore_version(store: Store, table: str, version: int) -> int:
    """Make `version` current again; returns the new version number (history is never rewritten)."""
    known = {h["version"] for h in table_history(store, table)}
    if version not in known:
        raise VitrineError(f"table {table!r} has no version {version}; versions: {min(known)}..{max(known)}")
    t = store.open_table(table)
    if t is None:
        raise VitrineError(f"table {table!r} does not exist")
    t.restore(version)
    return t.version


def undo_last_delete(store: Store) -> list[str]:
    """Bring back the items (and their vectors) removed by the most recent delete."""
    raw = store.get_setting("last_delete")
    if not raw:
        raise VitrineError("nothing to undo: no delete has been recorded in this workspace")
    record = json.loads(raw)
    for table, version in record["versions"].items():
        restore_version(store, table, int(version))
    store.set_setting("last_delete", "")
    return list(record["skus"])
