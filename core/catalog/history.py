"""Table history and the undoable table-wide actions: delete items, restore a version (both journaled for undo)."""

from __future__ import annotations

import pyarrow as pa

from core.access.audit import AUDIT_TABLE, Action
from core.access.audit import record as audit_record
from core.access.roles import require
from core.catalog.journal import JOURNAL_TABLE, Change, UndoReport, listing, record, removal, row_digests, undo
from core.catalog.store import Store, key_column, sql_str
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
    """Make `version` current again; returns the new version number (history is never rewritten, and the rows
    the restore replaces are journaled so `vitrine undo` brings them back)."""
    if table == JOURNAL_TABLE:
        raise VitrineError(f"{JOURNAL_TABLE} is the undo journal itself; use `vitrine undo` instead")
    if table == AUDIT_TABLE:
        raise VitrineError(f"{AUDIT_TABLE} is the append-only audit log: it is never rolled back")
    require(store, Action.RESTORE)
    known = {h["version"] for h in table_history(store, table)}
    if version not in known:
        raise VitrineError(f"table {table!r} has no version {version}; versions: {min(known)}..{max(known)}")
    t = store.open_table(table)
    if t is None:
        raise VitrineError(f"table {table!r} does not exist")
    current = t.to_arrow()
    old = store.open_table(table)
    assert old is not None
    old.checkout(version)
    target = old.to_arrow()
    record(store, "restore", f"restored {table} to version {version}",
           f"the rows of {table} as they were before the restore", [_difference(current, target, table)])
    t.restore(version)
    audit_record(store, Action.RESTORE, detail=f"restored {table} to version {version} (now version {t.version})")
    return t.version


def _difference(current: pa.Table, target: pa.Table, table: str) -> Change:
    """What restoring `target` over `current` replaces: the rows it changes or removes, and the rows it adds."""
    columns = [c for c in current.column_names if c in target.column_names]
    now, then = row_digests(current, columns), row_digests(target, columns)
    changed = {k for k in now.keys() | then.keys() if now.get(k) != then.get(k)}
    key = key_column(current.schema)
    before = current.filter(pa.array([k in changed for k in current.column(key).to_pylist()], pa.bool_()))
    return Change(table, before, {k: then.get(k, "") for k in sorted(changed)})


def delete_items(store: Store, skus: list[str]) -> int:
    """Delete items and their vectors, journaling exactly the removed rows first so undo can bring them back."""
    if not skus:
        return 0
    require(store, Action.DELETE)
    cond = "sku IN (" + ",".join(sql_str(s) for s in skus) + ")"
    changes = [removal(name, rows) for name in store.item_tables()
               if (rows := store.rows(name, cond)) is not None and rows.num_rows]
    if not changes:
        return 0
    gone = sorted(changes[0].before.column("sku").to_pylist()) if changes[0].table == "items" else []
    vectors = [c for c in changes if c.table != "items"]
    record(store, "delete", f"deleted {len(gone)} item(s): {listing(gone)}",
           f"{len(gone)} item(s) ({listing(gone)}) and their {sum(c.before.num_rows for c in vectors)} vector(s) "
           f"in {len(vectors)} representation(s)", changes)
    deleted = store.delete_items(skus)
    audit_record(store, Action.DELETE, skus=gone, detail=f"deleted {deleted} item(s): {listing(gone)}")
    return deleted


def undo_last_delete(store: Store) -> UndoReport:
    """`vitrine restore --undo-delete`: undo the most recent delete (not whatever came after it)."""
    return undo(store, "delete")
