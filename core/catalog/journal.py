"""The undo journal (`undo_journal` table): each destructive action records the rows it removes or replaces,
so undo puts back exactly those rows, as a new version, and keeps every later change.

An entry holds, per table it touches, the rows as they were (Arrow IPC) and a digest of each row as the action
left it ('' = removed). Undo restores a row only where the table still holds what the action left; a row changed
since (an item re-ingested, a review edited again) is kept and reported.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field, fields

import pyarrow as pa

from core.access.audit import Action
from core.access.audit import record as audit_record
from core.access.roles import require
from core.catalog.store import Store, conform, key_column, now_iso, sql_str
from core.errors import VitrineError

JOURNAL_TABLE = "undo_journal"
JOURNAL_SCHEMA = pa.schema([
    ("row_id", pa.string()),  # entry id + table: one row per table an action touched
    ("entry", pa.string()),  # sortable, unique: '<time ns>-<random>'
    ("action", pa.string()),  # delete | edit | restore
    ("summary", pa.string()),  # what the action did, e.g. 'deleted 2 item(s): A1, B1'
    ("brings_back", pa.string()),  # what undoing it brings back, named for the confirmation
    ("table", pa.string()),
    ("before", pa.large_binary()),  # Arrow IPC stream of the rows as they were before the action
    ("after", pa.string()),  # JSON {key: digest of the row the action left, '' when it removed it}
    ("created_at", pa.string()),
    ("undone_at", pa.string()),
])
KEEP_ENTRIES = 50  # a small journal: older actions stay recoverable through table versions (`vitrine restore`)


@dataclass(frozen=True)
class Change:
    """One table's part of an action: the rows before, and what each touched key holds after."""

    table: str
    before: pa.Table
    after: dict[str, str]  # key -> digest of the row left by the action, '' when it was removed


@dataclass(frozen=True)
class Entry:
    entry: str
    action: str
    summary: str
    brings_back: str
    created_at: str

    def confirmation(self) -> str:
        """The sentence a confirmation shows: what was done, and what undo brings back."""
        return f"Undo “{self.summary}” ({self.created_at}): brings back {self.brings_back}."


@dataclass
class UndoReport:
    entry: Entry
    # table (a vector table by its representation's name) -> keys put back as they were / changed since, left
    restored: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"undid: {self.entry.summary}"]
        out += [f"{table}: brought back {len(keys)} row(s): {listing(keys)}" for table, keys in self.restored.items()]
        out += [f"{table}: kept {len(keys)} row(s) changed since: {listing(keys)}" for table, keys in self.kept.items()]
        return out if self.restored or self.kept else [*out, "nothing came back: every row had changed since"]


def listing(keys: list[str], shown: int = 10) -> str:
    """'A1, B1, … (+40)': keys named in a message without flooding it."""
    return ", ".join(keys[:shown]) + (f" … (+{len(keys) - shown})" if len(keys) > shown else "")


def row_digests(rows: pa.Table, columns: list[str] | None = None) -> dict[str, str]:
    """key -> digest of the whole row (over `columns`, by default all), to tell later changes from the action's."""
    names = columns or rows.column_names
    key = key_column(rows.schema)
    return {row[key]: hashlib.sha256(json.dumps(row, sort_keys=True, default=bytes.hex).encode()).hexdigest()
            for row in rows.select(names).to_pylist()}


def removal(table: str, before: pa.Table) -> Change:
    """The action deletes these rows."""
    return Change(table, before, dict.fromkeys(before.column(key_column(before.schema)).to_pylist(), ""))


def replacement(store: Store, table: str, after: pa.Table, schema: pa.Schema) -> Change:
    """The action writes `after` over whatever rows its keys hold now (none: undo removes them)."""
    key = key_column(schema)
    keys = after.column(key).to_pylist()
    current = store.rows(table, f"{key} IN ({', '.join(sql_str(k) for k in keys)})") if keys else None
    before = conform(current, schema) if current is not None else schema.empty_table()
    return Change(table, before, row_digests(after.select(schema.names)))


def record(store: Store, action: str, summary: str, brings_back: str, changes: list[Change]) -> Entry:
    """Journal an action before it runs: a crash after this line leaves an entry whose undo finds the rows as they
    were and so brings nothing back twice."""
    entry = Entry(f"{time.time_ns():020d}-{secrets.token_hex(4)}", action, summary, brings_back, now_iso())
    rows = [{"row_id": f"{entry.entry}/{c.table}", "entry": entry.entry, "action": action, "summary": summary,
             "brings_back": brings_back, "table": c.table, "before": _ipc(c.before), "after": json.dumps(c.after),
             "created_at": entry.created_at, "undone_at": ""} for c in changes]
    store.upsert_rows(JOURNAL_TABLE, JOURNAL_SCHEMA, rows, "row_id")
    _prune(store)
    return entry


def discard(store: Store, entry: Entry) -> None:
    """Forget an entry whose action did not happen (e.g. a save refused by a conflict)."""
    store.delete_rows(JOURNAL_TABLE, f"entry = {sql_str(entry.entry)}")


def last_entry(store: Store, action: str | None = None) -> Entry | None:
    """The most recent action not undone yet (of one kind, if given)."""
    where = "undone_at = ''" + (f" AND action = {sql_str(action)}" if action else "")
    rows = store.rows(JOURNAL_TABLE, where, columns=[f.name for f in fields(Entry)])  # not the stored rows
    if rows is None or not rows.num_rows:
        return None
    return Entry(**max(rows.to_pylist(), key=lambda r: r["entry"]))


def undo(store: Store, action: str | None = None) -> UndoReport:
    """Put back the rows the last action (of one kind, if given) removed or replaced, where nothing changed since."""
    require(store, Action.UNDO)
    entry = last_entry(store, action)
    if entry is None:
        kind = f"no {action} has" if action else "no destructive action has"
        raise VitrineError(f"nothing to undo: {kind} been recorded in this workspace")
    report = UndoReport(entry)
    changes = store.rows(JOURNAL_TABLE, f"entry = {sql_str(entry.entry)}")
    assert changes is not None  # last_entry just read it
    names = dict(zip(*store.representations()[["table", "name"]].T.values, strict=True))
    for row in changes.to_pylist():
        change = Change(row["table"], _from_ipc(row["before"]), json.loads(row["after"]))
        _undo_change(store, change, report, names.get(change.table, change.table))
    store.upsert_rows(JOURNAL_TABLE, JOURNAL_SCHEMA, [{**row, "undone_at": now_iso()} for row in changes.to_pylist()],
                      "row_id")
    audit_record(store, Action.UNDO, skus=report.restored.get("items", []), detail="; ".join(report.lines()))
    return report


def _undo_change(store: Store, change: Change, report: UndoReport, label: str) -> None:
    key = key_column(change.before.schema)
    keys = list(change.after)
    current = store.rows(change.table, f"{key} IN ({', '.join(sql_str(k) for k in keys)})") if keys else None
    now = row_digests(current, change.before.column_names) if current is not None and current.num_rows else {}
    unchanged = [k for k in keys if now.get(k, "") == change.after[k]]
    kept = [k for k in keys if k not in unchanged]
    before_keys = set(change.before.column(key).to_pylist())
    put = [k for k in unchanged if k in before_keys]
    drop = [k for k in unchanged if k not in before_keys]  # the action created them
    if put:
        mask = pa.array([k in set(put) for k in change.before.column(key).to_pylist()])
        store.put_rows(change.table, change.before.filter(mask))
    if drop:
        store.delete_rows(change.table, f"{key} IN ({', '.join(sql_str(k) for k in drop)})")
    if put or drop:
        report.restored[label] = sorted(put + drop)
    if kept:
        report.kept[label] = sorted(kept)


def _prune(store: Store) -> None:
    rows = store.rows(JOURNAL_TABLE, columns=["entry"])
    entries = set(rows.column("entry").to_pylist()) if rows is not None else set()
    if len(entries) > KEEP_ENTRIES:
        oldest = sorted(entries)[-KEEP_ENTRIES]
        store.delete_rows(JOURNAL_TABLE, f"entry < {sql_str(oldest)}")


def _ipc(rows: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()
