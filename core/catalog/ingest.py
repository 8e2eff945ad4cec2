"""Ingest images from folders, zips or files, with optional metadata CSV; every file gets a verdict."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.catalog.images import IMAGE_SUFFIXES, MAX_FILE_BYTES, ImageRejected, ImageStore, validate_image
from core.catalog.store import Store, now_iso
from core.errors import VitrineError

REQUIRED_COLUMNS = ("sku", "image")
CORE_COLUMNS = ("sku", "title", "category", "image")
ITEM_COLUMNS = ("sku", "title", "category", "image_sha256", "image_ext", "extra")
MAX_ZIP_TOTAL = 2 * 1024**3
MAX_ZIP_RATIO = 100
_SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\- ]{0,63}$")


class MetadataError(VitrineError):
    """The metadata CSV cannot be used as a whole (encoding, missing columns)."""


@dataclass
class FileVerdict:
    file: str
    status: str  # accepted | updated | duplicate | rejected
    sku: str = ""
    reason: str = ""
    row: dict | None = field(default=None, repr=False)  # the item row to write when accepted


@dataclass
class IngestReport:
    verdicts: list[FileVerdict] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)

    @property
    def accepted(self) -> int:
        return self.count("accepted") + self.count("updated")

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("accepted", "updated", "duplicate", "rejected") if self.count(s)]
        return ", ".join(parts) or "nothing to ingest"

    def as_rows(self) -> list[dict]:
        return [{"file": v.file, "status": v.status, "sku": v.sku, "reason": v.reason} for v in self.verdicts]


def validate_sku(sku: str) -> str:
    """SKUs become file-system-safe identifiers; reject path tricks and control characters."""
    sku = sku.strip()
    if not sku:
        raise ValueError("empty SKU")
    if "\x00" in sku or "/" in sku or "\\" in sku or ".." in sku:
        raise ValueError(f"SKU {sku!r} contains '/', '\\', '..' or NUL")
    if not _SKU_RE.match(sku):
        raise ValueError(f"SKU {sku!r} must be 1-64 letters, digits, '.', '_', '-' or spaces")
    return sku


def read_metadata(data: bytes, name: str = "metadata CSV") -> dict[str, dict[str, str]]:
    """Parse the metadata CSV into {image name: row}; raises for unusable files, skips bad rows later."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{name}: not UTF-8 (byte {exc.start}); save it as UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise MetadataError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}")
        rows: dict[str, dict[str, str]] = {}
        for raw in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            rows[PurePosixPath(row["image"]).name] = row
    except csv.Error as exc:
        raise MetadataError(f"{name}: malformed CSV at line {reader.line_num}: {exc}") from exc
    return rows


def iter_sources(paths: list[Path]) -> Iterator[tuple[str, bytes | ImageRejected]]:
    """Yield (display name, bytes) for every candidate image in folders, zips and plain files."""
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
                yield str(file.relative_to(path)), file.read_bytes()
        elif path.suffix.lower() == ".zip":
            yield from iter_zip(path.read_bytes(), path.name)
        elif path.is_file():
            yield path.name, path.read_bytes()
        else:
            yield str(path), ImageRejected(f"{path}: no such file or folder")


def iter_zip(data: bytes, name: str) -> Iterator[tuple[str, bytes | ImageRejected]]:
    """Read members in memory (never extract to disk), refusing zip-slip paths and zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield name, ImageRejected(f"{name}: not a valid zip archive")
        return
    total = 0
    for info in archive.infolist():
        if info.is_dir() or "__MACOSX" in info.filename:
            continue
        member = f"{name}:{info.filename}"
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            yield member, ImageRejected(f"{member}: unsafe path in archive (absolute or '..')")
            continue
        if PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_FILE_BYTES or ratio > MAX_ZIP_RATIO or total > MAX_ZIP_TOTAL:
            yield member, ImageRejected(f"{member}: refused, expands to {info.file_size:,} bytes "
                                        f"({ratio:.0f}x compression): possible zip bomb")
            continue
        yield PurePosixPath(info.filename).name, archive.read(info)


def ingest(store: Store, images: ImageStore, paths: list[Path], metadata: bytes | None = None,
           *, uploads: list[tuple[str, bytes]] | None = None) -> IngestReport:
    """Validate, store and index images; the batch continues past bad files and nothing is half-written."""
    meta = read_metadata(metadata) if metadata is not None else None
    report = IngestReport()
    existing = store.items()
    by_sku = {r["sku"]: r for r in existing[list(ITEM_COLUMNS)].to_dict("records")}
    batch_skus: set[str] = set()
    rows: list[dict] = []
    sources = list(iter_sources(paths))
    for up_name, up_data in uploads or []:
        sources.extend(iter_zip(up_data, up_name) if up_name.lower().endswith(".zip") else [(up_name, up_data)])
    for name, data in sources:
        verdict = _ingest_one(name, data, meta, by_sku, batch_skus, images)
        report.verdicts.append(verdict)
        if verdict.row is not None:
            rows.append(verdict.row)
    store.upsert_items(rows)
    store.optimize_if_fragmented()  # one fragment per upload adds up over a catalogue's life
    return report


def _ingest_one(name: str, data: bytes | ImageRejected, meta: dict[str, dict[str, str]] | None,
                by_sku: dict[str, dict], batch_skus: set[str], images: ImageStore) -> FileVerdict:
    if isinstance(data, ImageRejected):
        return FileVerdict(name, "rejected", reason=str(data))
    base = PurePosixPath(name).name
    if meta is not None and base not in meta:
        return FileVerdict(name, "rejected", reason=f"{base}: no row in the metadata CSV names this image")
    row = meta[base] if meta is not None else {"sku": PurePosixPath(base).stem}
    try:
        sku = validate_sku(row.get("sku", ""))
    except ValueError as exc:
        return FileVerdict(name, "rejected", reason=f"{base}: {exc}")
    if sku in batch_skus:
        return FileVerdict(name, "rejected", sku=sku, reason=f"{base}: SKU {sku} appears twice in this batch")
    try:
        clean = validate_image(data, base)
    except ImageRejected as exc:
        return FileVerdict(name, "rejected", sku=sku, reason=str(exc))
    batch_skus.add(sku)
    previous = by_sku.get(sku)
    item = {
        "sku": sku,
        "title": row.get("title") or PurePosixPath(base).stem.replace("_", " ").replace("-", " ").title(),
        "category": (row.get("category") or "uncategorised").lower(),
        "image_sha256": clean.sha256, "image_ext": clean.ext,
        "extra": json.dumps({k: v for k, v in row.items() if k not in CORE_COLUMNS and k}, ensure_ascii=False),
        "added_at": now_iso(),
    }
    if previous is not None and meta is None:  # no CSV: an image re-upload keeps the stored metadata
        item.update(title=previous["title"], category=previous["category"], extra=previous["extra"])
    if previous is not None and all(previous[k] == item[k] for k in ITEM_COLUMNS):
        return FileVerdict(name, "duplicate", sku=sku, reason="already in the catalogue, unchanged")
    images.put(clean)
    return FileVerdict(name, "updated" if previous else "accepted", sku=sku,
                       reason="replaced the stored version" if previous else "", row=item)

