"""Ingest images from folders, zips or files, with optional metadata CSV; every file gets a verdict."""

from __future__ import annotations

import csv
import io
import json
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.access.audit import Action, record
from core.access.roles import require
from core.catalog.images import (
    IMAGE_SUFFIXES,
    MAX_FILE_BYTES,
    UNSUPPORTED_FORMATS,
    ImageRejected,
    ImageStore,
    unsupported_format,
    validate_image,
)
from core.catalog.store import Store, now_iso
from core.errors import VitrineError

REQUIRED_COLUMNS = ("sku", "image")
CORE_COLUMNS = ("sku", "title", "category", "image")
ITEM_COLUMNS = ("sku", "title", "category", "image_sha256", "image_ext", "extra")
MAX_ZIP_TOTAL = 2 * 1024**3
MAX_ZIP_RATIO = 100
ZIP_DEFLATE64 = 9  # what Windows writes for large archives; Python's zipfile cannot inflate it
READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
VERDICT_SUFFIXES = IMAGE_SUFFIXES | set(UNSUPPORTED_FORMATS) | {".zip"}  # other files (notes, CSVs) are not images
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
    """Parse the metadata CSV into {image path: row}; raises for unusable files, skips bad rows later."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{name}: not UTF-8 (byte {exc.start}); save it as UTF-8 CSV") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise MetadataError(_delimiter_hint(name, columns) or f"{name}: missing column(s) {', '.join(missing)}; "
                                                                  f"found {', '.join(columns) or 'none'}")
        rows: dict[str, dict[str, str]] = {}
        lines: dict[str, int] = {}
        for raw in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            image = "/".join(_path_parts(row["image"]))
            if not image:
                continue  # names no file, so it can describe none (spreadsheets pad with empty rows)
            if image in rows:
                raise MetadataError(f"{name}: lines {lines[image]} and {reader.line_num} both name image {image} "
                                    f"(SKUs {rows[image]['sku'] or '(empty)'} and {row['sku'] or '(empty)'}); "
                                    "give each image one row")
            rows[image], lines[image] = row, reader.line_num
    except csv.Error as exc:
        raise MetadataError(f"{name}: malformed CSV at line {reader.line_num}: {exc}") from exc
    return rows


def _delimiter_hint(name: str, columns: list[str]) -> str | None:
    """A spreadsheet saved with another separator reads as one long column; say so instead of 'missing column'."""
    header = ",".join(columns)
    for delimiter, word in ((";", "semicolon"), ("\t", "tab")):
        if all(c in [part.strip() for part in header.split(delimiter)] for c in REQUIRED_COLUMNS):
            return f"{name}: this CSV looks {word}-separated; save it with commas"
    return None


def _path_parts(path: str) -> tuple[str, ...]:
    """A path as written in a CSV or an archive: either slash separates, '.' and empty parts mean nothing."""
    return tuple(part for part in path.replace("\\", "/").split("/") if part not in ("", "."))


@dataclass(frozen=True)
class Source:
    """One file to judge: its name in the verdicts, where it lies and its bytes (or why it cannot be read)."""

    name: str
    rel: tuple[str, ...]  # path from the ingested folder or zip root
    data: bytes | ImageRejected
    root: tuple[str, ...] = ()  # the ingested folder's own name, so a CSV path that includes it still matches

    @property
    def path(self) -> str:
        return "/".join(self.root + self.rel)


def iter_sources(paths: list[Path]) -> Iterator[Source]:
    """Every candidate image in folders, zips and plain files; kinds Vitrine cannot read come with the reason."""
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VERDICT_SUFFIXES):
                rel = file.relative_to(path).parts
                yield Source("/".join(rel), rel, _refusal("/".join(rel)) or file.read_bytes(), (path.resolve().name,))
        elif path.suffix.lower() == ".zip":
            yield from iter_zip(path.read_bytes(), path.name)
        elif path.is_file():
            root = (path.resolve().parent.name,)
            yield Source(path.name, (path.name,), _refusal(path.name) or path.read_bytes(), root)
        else:
            yield Source(str(path), (path.name,), ImageRejected(f"{path}: no such file or folder"))


def iter_uploads(uploads: list[tuple[str, bytes]]) -> Iterator[Source]:
    """Uploaded files arrive without folders: zips are opened, other files judged by name and content."""
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            yield from iter_zip(data, name)
        else:
            yield Source(name, _path_parts(name), _refusal(name) or data)


def _refusal(label: str) -> ImageRejected | None:
    """Why a file of a kind people expect to work is not read (archives in archives could be bombs)."""
    if label.lower().endswith(".zip"):
        return ImageRejected(f"{label}: an archive inside a folder or zip is not opened; ingest it on its own")
    return unsupported_format(label)


def iter_zip(data: bytes, name: str) -> Iterator[Source]:
    """Read members in memory (never extract to disk), refusing zip-slip paths and zip bombs; each member gets
    its own verdict, so one damaged, encrypted or Deflate64 member does not cost the others."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield Source(name, (name,), ImageRejected(f"{name}: not a valid zip archive"))
        return
    total = 0
    for info in archive.infolist():
        if info.is_dir() or "__MACOSX" in info.filename:
            continue
        member = f"{name}:{info.filename}"
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            yield Source(member, parts, ImageRejected(f"{member}: unsafe path in archive (absolute or '..')"))
            continue
        if PurePosixPath(info.filename).suffix.lower() not in VERDICT_SUFFIXES:
            continue
        total += info.file_size
        content = (_refusal(member) or _unreadable(info, member) or _bomb(info, total, member)
                   or _read_member(archive, info, member))
        yield Source(member if isinstance(content, ImageRejected) else "/".join(parts), parts, content)


def _unreadable(info: zipfile.ZipInfo, member: str) -> ImageRejected | None:
    """Members Python's zipfile cannot open, refused with what to do instead of a traceback."""
    if info.flag_bits & 0x1:
        return ImageRejected(f"{member}: password-protected member; zip it again without a password")
    if info.compress_type not in READABLE_METHODS:
        method = ("Deflate64 (Windows' method for large archives)" if info.compress_type == ZIP_DEFLATE64
                  else f"compression method {info.compress_type}")
        return ImageRejected(f"{member}: compressed with {method}, which Vitrine cannot read; zip it again with "
                             "standard Deflate (e.g. 7-Zip or `zip -r`)")
    return None


def _bomb(info: zipfile.ZipInfo, total: int, member: str) -> ImageRejected | None:
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_FILE_BYTES or ratio > MAX_ZIP_RATIO or total > MAX_ZIP_TOTAL:
        return ImageRejected(f"{member}: refused, expands to {info.file_size:,} bytes ({ratio:.0f}x compression): "
                             "possible zip bomb")
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes | ImageRejected:
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        return ImageRejected(f"{member}: damaged archive member ({exc}); zip the file again")


def _match_rows(sources: list[Source], meta: dict[str, dict[str, str]]) -> list[dict[str, str] | str]:
    """Each source's CSV row, or why it has none. The path from the ingested folder or zip root wins; otherwise a
    row matches when one path ends with the other (a bare file name, or a path that names the folder itself), as
    long as that pairs one row with one file."""
    exact = {i: "/".join(s.rel) for i, s in enumerate(sources) if "/".join(s.rel) in meta}
    by_name: dict[str, list[str]] = {}
    for image in meta.keys() - set(exact.values()):
        by_name.setdefault(image.rsplit("/", 1)[-1], []).append(image)
    chosen = {i: [exact[i]] if i in exact else
              sorted(m for m in by_name.get(s.rel[-1] if s.rel else "", []) if _ends_alike(m, s.path))
              for i, s in enumerate(sources)}
    claimants: dict[str, list[str]] = {}
    for i, images in chosen.items():
        if len(images) == 1:
            claimants.setdefault(images[0], []).append(sources[i].path)
    matched: list[dict[str, str] | str] = []
    for source, images in zip(sources, chosen.values(), strict=True):
        if not images:
            matched.append(f"{PurePosixPath(source.name).name}: no row in the metadata CSV names this image")
        elif len(images) > 1:
            matched.append(f"{source.path} matches rows for {_and(images)} in the metadata CSV; ingest its folder "
                           "or a zip so that its path tells them apart")
        elif len(claimants[images[0]]) > 1:
            matched.append(f"{images[0]} in the metadata CSV (SKU {meta[images[0]]['sku'] or '(empty)'}) matches "
                           f"{_and(claimants[images[0]])}; write the image's path relative to the folder or zip")
        else:
            matched.append(meta[images[0]])
    return matched


def _ends_alike(a: str, b: str) -> bool:
    """True when the shorter path is the tail of the longer, part by part."""
    shorter, longer = sorted((a, b), key=len)
    return longer == shorter or longer.endswith("/" + shorter)


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1]


def ingest(store: Store, images: ImageStore, paths: list[Path], metadata: bytes | None = None,
           *, uploads: list[tuple[str, bytes]] | None = None) -> IngestReport:
    """Validate, store and index images; the batch continues past bad files and nothing is half-written."""
    require(store, Action.INGEST)
    meta = read_metadata(metadata) if metadata is not None else None
    report = IngestReport()
    existing = store.items()
    by_sku = {r["sku"]: r for r in existing[list(ITEM_COLUMNS)].to_dict("records")}
    batch_skus: set[str] = set()
    rows: list[dict] = []
    sources = [*iter_sources(paths), *iter_uploads(uploads or [])]
    matched = _match_rows(sources, meta) if meta is not None else [None] * len(sources)
    for source, row in zip(sources, matched, strict=True):
        verdict = _ingest_one(source, row, by_sku, batch_skus, images)
        report.verdicts.append(verdict)
        if verdict.row is not None:
            rows.append(verdict.row)
    store.upsert_items(rows)
    store.optimize_if_fragmented()  # one fragment per upload adds up over a catalogue's life
    if rows:
        record(store, Action.INGEST, skus=[r["sku"] for r in rows], detail=report.summary())
    return report


def _ingest_one(source: Source, row: dict[str, str] | str | None, by_sku: dict[str, dict], batch_skus: set[str],
                images: ImageStore) -> FileVerdict:
    """One file's verdict; `row` is its CSV row, why it has none (a message), or None when there is no CSV."""
    name, data = source.name, source.data
    if isinstance(data, ImageRejected):
        return FileVerdict(name, "rejected", reason=str(data))
    if isinstance(row, str):
        return FileVerdict(name, "rejected", reason=row)
    base = PurePosixPath(name).name
    from_csv = row is not None
    row = row if row is not None else {"sku": PurePosixPath(base).stem}
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
    if previous is not None and not from_csv:  # no CSV: an image re-upload keeps the stored metadata
        item.update(title=previous["title"], category=previous["category"], extra=previous["extra"])
    if previous is not None and all(previous[k] == item[k] for k in ITEM_COLUMNS):
        return FileVerdict(name, "duplicate", sku=sku, reason="already in the catalogue, unchanged")
    images.put(clean)
    return FileVerdict(name, "updated" if previous else "accepted", sku=sku,
                       reason="replaced the stored version" if previous else "", row=item)

