"""Profile = mean of history vectors; recommendations = cosine top-k with history excluded."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import lancedb
import numpy as np
from lancedb.background_loop import LOOP

from core.catalog import ann
from core.catalog.store import table_slug
from core.config import settings
from core.errors import ConfigError, VitrineError
from core.lab import Lab
from core.models import FACETS
from core.nets.encoders import normalise

# What matrices and memoised values may hold between requests; one 1M-item 384-d representation is ~1.5 GB of
# vectors plus ~0.2 GB of SKU list and index, so the default keeps one such and some small ones.
# VITRINE_MATRIX_CACHE_MB (core.config.Settings.matrix_cache_bytes) overrides it.
MATRIX_CACHE_BYTES = 2 << 30
ATTRIBUTE_TABLES = ("settings", "descriptions", "items")  # what item_attributes reads
SIZE_SAMPLE = 64  # items of a list or dict sized one by one; the rest are assumed alike


def cache_budget() -> int:
    """The byte budget in force: the setting when given, else MATRIX_CACHE_BYTES (read per store, so it can change)."""
    configured = settings().matrix_cache_bytes
    return MATRIX_CACHE_BYTES if configured is None else configured


def estimate_bytes(value: Any) -> int:
    """Rough memory held by a cached value: arrays exactly, containers from a sample of their items, not a full walk
    (a million SKUs would take a second to measure exactly)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(estimate_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        pairs = list(itertools.islice(value.items(), SIZE_SAMPLE))
        per_item = sum(estimate_bytes(k) + estimate_bytes(v) for k, v in pairs) / max(len(pairs), 1)
        return sys.getsizeof(value) + int(per_item * len(value))
    if isinstance(value, list | tuple | set | frozenset):
        sample = list(itertools.islice(value, SIZE_SAMPLE))
        per_item = sum(estimate_bytes(v) for v in sample) / max(len(sample), 1)
        return sys.getsizeof(value) + int(per_item * len(value))
    return sys.getsizeof(value)


class ByteLRU:
    """Values by key, least recently used dropped first once their estimated bytes pass cache_budget(); thread-safe.

    The entry just stored always stays, even alone over the budget: a representation bigger than the budget is then
    read once per version rather than on every request."""

    def __init__(self, budget: Callable[[], int] = cache_budget) -> None:
        self._budget = budget
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Store (replacing the key's old value, e.g. an older version's), then evict down to the budget."""
        size, budget = estimate_bytes(value), self._budget()
        with self._lock:
            self._drop(key)
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > budget and len(self._entries) > 1:
                self._drop(next(iter(self._entries)))

    def update(self, key: Hashable, change: Callable[[Any], Any | None]) -> None:
        """Replace the key's value with change(value) atomically, unless it is absent or change returns None."""
        with self._lock:
            hit = self._entries.get(key)
            new = None if hit is None else change(hit[0])
            if hit is not None and new is not None:
                self._entries[key] = (new, hit[1])

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._drop(key)

    def lru_order(self) -> list[Hashable]:
        """Keys from least to most recently used: the first goes next."""
        with self._lock:
            return list(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def _drop(self, key: Hashable) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]


@dataclass(frozen=True)
class _Loaded:
    """A representation's matrix as read at one version of its table: what load_matrix caches."""

    version: int
    skus: list[str]
    vectors: np.ndarray
    index: dict[str, int]
    indexed: bool


# Matrices under ("matrix", uri, table) and memoised values under ("memo", uri, *what), sharing one byte budget.
_CACHE = ByteLRU()


@dataclass
class Recommendation:
    sku: str
    score: float
    title: str = ""
    category: str = ""
    image_sha256: str = ""
    closest_history: str = ""
    shared_attributes: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Pool:
    """What a ranking chose from, carried with its results: a partial representation, a clamped k or an ignored
    history item is said beside the list, never left for the reader to guess."""

    representation: str
    covered: int  # catalogue items with a vector here: the only items a ranking can return
    catalogue: int
    candidates: int  # vectors the ranking could return (the shopper's history excluded)
    asked: int  # the k requested; a larger k than the candidates is clamped to them
    ignored: tuple[str, ...] = ()  # history SKUs without a vector here: they do not shape the profile

    @property
    def partial(self) -> bool:
        return self.covered < self.catalogue

    def notes(self) -> list[str]:
        """One line per fact a reader of the results needs; none for a full pool and a k that fits."""
        return [n for n in (self.coverage_note(), self.k_note(), self.history_note()) if n]

    def coverage_note(self) -> str:
        if not self.partial:
            return ""
        return (f"ranked over {self.covered:,} of {self.catalogue:,} items: {self.representation} covers only these, "
                "so results can only come from them")

    def k_note(self) -> str:
        if not self.candidates:
            return f"nothing to rank: {self.representation} holds no vector outside the history"
        if self.asked > self.candidates:
            return (f"k={self.asked:,} is more than the {self.candidates:,} candidate(s): "
                    f"all {self.candidates:,} are ranked")
        return ""

    def history_note(self) -> str:
        if not self.ignored:
            return ""
        shown = ", ".join(self.ignored[:10]) + (" …" if len(self.ignored) > 10 else "")
        return (f"{len(self.ignored):,} history item(s) have no vector in {self.representation} and do not shape the "
                f"profile: {shown}")


class Ranking(list[Recommendation]):
    """Recommendations best first plus the pool they came from; a list, so every caller iterates it as before."""

    def __init__(self, recommendations: Iterable[Recommendation], pool: Pool) -> None:
        super().__init__(recommendations)
        self.pool = pool


@dataclass
class Matrix:
    """A representation's vectors in memory, reloaded only when its LanceDB version changes."""

    name: str
    skus: list[str]
    vectors: np.ndarray
    index: dict[str, int]
    table: str = ""  # the LanceDB vector table, set when the matrix came from the store
    indexed: bool = False  # the table has an ANN index (only ever built above ann.ANN_MIN_ROWS rows)
    version: int = 0  # of that table, as read


class _Tables:
    """LanceDB tables held open for requests: each call is one trip to LanceDB's event loop (~1 ms apiece on a
    busy 2-core machine, and the sync API makes several per operation)."""

    def __init__(self) -> None:
        self._dbs: dict[str, Any] = {}
        self._tables: dict[tuple[str, str], Any] = {}  # touched only on LanceDB's loop thread

    def versions(self, uri: str, names: tuple[str, ...]) -> tuple[int, ...]:
        """Latest committed versions (any process's), 0 for an absent table; the handles move to them."""
        return LOOP.run(self._latest(uri, names))

    def run(self, uri: str, name: str, call: Callable[[Any], Any]) -> Any:
        """await call(table) on the handle versions() last refreshed: it sees the same data as the matrix."""
        return LOOP.run(self._run(uri, name, call))

    async def _run(self, uri: str, name: str, call: Callable[[Any], Any]) -> Any:
        if (uri, name) not in self._tables:
            await self._latest(uri, (name,))
        return await call(self._tables[(uri, name)])

    async def _latest(self, uri: str, names: tuple[str, ...]) -> tuple[int, ...]:
        if uri not in self._dbs:
            self._dbs[uri] = await lancedb.connect_async(uri)
        return tuple(await asyncio.gather(*(self._version(uri, name) for name in names)))

    async def _version(self, uri: str, name: str) -> int:
        table = self._tables.get((uri, name))
        if table is not None:
            try:
                await table.checkout_latest()
                return await table.version()
            except Exception:
                del self._tables[(uri, name)]
        try:
            table = await self._dbs[uri].open_table(name)
        except ValueError:
            return 0
        self._tables[(uri, name)] = table
        return await table.version()


_TABLES = _Tables()


def _versions(lab: Lab, tables: tuple[str, ...]) -> tuple[int, ...]:
    """Current LanceDB versions of some tables (0 when absent), as any process last committed them."""
    return _TABLES.versions(lab.store.uri, tables)


def _memo(lab: Lab, what: tuple, tables: tuple[str, ...], compute: Callable[[], Any],
          versions: tuple[int, ...] | None = None) -> Any:
    """compute(), cached per workspace until one of `tables` gets a new version (any process's write)."""
    versions, key = versions or _versions(lab, tables), ("memo", lab.store.uri, *what)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == versions:
        return hit[1]
    value = compute()
    _CACHE.put(key, (versions, value))  # replaces the entry for older versions
    return value


def load_matrix(lab: Lab, representation: str) -> Matrix:
    return _load_matrix(lab, representation, _versions(lab, ("representations", table_slug(representation))))


def _load_matrix(lab: Lab, representation: str, versions: tuple[int, ...]) -> Matrix:
    """versions: of the registry and of table_slug(representation), which register_representation names it."""
    registry, version = versions[:2]
    table = _table_name(lab, representation, registry)
    if table != table_slug(representation):
        version = _versions(lab, (table,))[0]
    cache_key = ("matrix", lab.store.uri, table)
    hit: _Loaded | None = _CACHE.get(cache_key)
    if hit is None or hit.version != version:
        skus, vectors, version = lab.store.vectors(table)
        vt = lab.store.vector_table(table)
        indexed = vt is not None and len(skus) >= ann.ANN_MIN_ROWS and ann.vector_index(vt) is not None
        hit = _Loaded(version, skus, normalise(vectors) if len(skus) else vectors,
                      {s: i for i, s in enumerate(skus)}, indexed)
        _CACHE.pop(("memo", lab.store.uri, "rowids", table))  # row ids belong to the matrix being replaced
        _CACHE.put(cache_key, hit)  # replaces the older version's entry
    if len(hit.skus) >= ann.ANN_MIN_ROWS and not hit.indexed:
        _build_index_in_background(lab.store.uri, table)
    return Matrix(representation, hit.skus, hit.vectors, hit.index, table, hit.indexed, hit.version)


def _table_name(lab: Lab, representation: str, registry: int) -> str:
    """The vector table the registry (at version `registry`) names for a representation."""
    return _memo(lab, ("table", representation), ("representations",),
                 lambda: lab.store.representation(representation)["table"], versions=(registry,))


def data_versions(lab: Lab, representation: str) -> tuple[tuple[int, ...], tuple[object, ...]]:
    """In one trip to LanceDB: (registry and vector-table versions, which date the vectors; the versions of what
    item_attributes reads and the prompt files, which date the item columns). A value derived from either part
    stays current while that part is unchanged, whichever process writes."""
    slug = table_slug(representation)
    versions = _versions(lab, ("representations", slug, *ATTRIBUTE_TABLES))
    table = _table_name(lab, representation, versions[0])
    vector = versions[1] if table == slug else _versions(lab, (table,))[0]
    return (versions[0], vector), (*versions[2:], *_prompt_files(lab))


def _build_index_in_background(uri: str, table: str) -> None:
    """Large representations get an ANN index; the cached matrix survives the index's version bump."""

    def done(before: int, after: int) -> None:
        def indexed(hit: _Loaded) -> _Loaded | None:
            fresh = hit.version == before and after == before + 1  # nobody else wrote meanwhile
            return dataclasses.replace(hit, version=after, indexed=True) if fresh else None

        _CACHE.update(("matrix", uri, table), indexed)

    ann.BUILDS.start(uri, table, done=done)


def default_representation(lab: Lab) -> str:
    """The active run if it exists, else the active prompt's run by the active provider (e.g. an earlier tagger
    revision's), else any description run, else title."""
    reps = lab.store.representations()
    if reps.empty:
        raise VitrineError("this workspace has no representations yet: run `vitrine describe` first")
    provider, model = lab.active_provider()
    active = (reps["prompt_hash"] == lab.active_prompt().hash) & (reps["provider"] == provider)
    if active.any():  # the describer names the model: a default, or an earlier revision's name, means the current one
        with suppress(ConfigError):  # a provider not installed here: ranking needs its stored runs, no describer
            model = lab.describer(provider, model=model or None).model
        current = active & (reps["model"] == model)
        return str(reps[current if current.any() else active].iloc[0]["name"])
    for prefer in (reps["kind"] == "description", reps["kind"] == "title"):
        if prefer.any():
            return str(reps[prefer].iloc[0]["name"])
    return str(reps.iloc[0]["name"])


def top_k(matrix: np.ndarray, query: np.ndarray, k: int, exclude: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k (rows are normalised): one mat-vec plus argpartition."""
    scores = matrix @ query
    if exclude:
        scores[exclude] = -np.inf
    k = min(k, len(scores) - len(exclude))
    if k <= 0:
        return np.array([], dtype=int), np.array([], dtype=np.float32)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx, scores[idx]


def nearest(lab: Lab, m: Matrix, query: np.ndarray, k: int, exclude: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """top_k, served from the ANN index when the representation has one (candidates re-scored exactly)."""
    if not m.indexed:
        return top_k(m.vectors, query, k, exclude)
    ids = _TABLES.run(lab.store.uri, m.table, lambda t: ann.query(t, query, k + len(exclude)))  # over-fetch
    sorted_ids, rows_of = _row_map(lab, m)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    rows = rows_of[pos[sorted_ids[pos] == ids]]
    rows = np.unique(rows[(rows >= 0) & ~np.isin(rows, exclude)])
    if len(rows) < min(k, len(m.skus) - len(set(exclude))):
        return top_k(m.vectors, query, k, exclude)  # the index came back short: stay correct, go exact
    scores = m.vectors[rows] @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return rows[order], scores[order]


def _row_map(lab: Lab, m: Matrix) -> tuple[np.ndarray, np.ndarray]:
    """(sorted LanceDB row ids, the matrix row of each; -1 if absent), read once per matrix."""

    def read() -> tuple[np.ndarray, np.ndarray]:
        ids, skus = _TABLES.run(lab.store.uri, m.table, ann.row_ids)
        order = np.argsort(ids)
        return ids[order], np.array([m.index.get(skus[i], -1) for i in order], dtype=np.int64)

    key = ("memo", lab.store.uri, "rowids", m.table)
    hit: tuple[weakref.ref[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = _CACHE.get(key)
    if hit is None or hit[0]() is not m.vectors:  # a weak reference: an evicted matrix is not kept alive by this
        hit = (weakref.ref(m.vectors), read())
        _CACHE.put(key, hit)
    return hit[1]


def profile_vector(m: Matrix, history: list[str], weights: list[float] | None = None) -> tuple[np.ndarray, list[int]]:
    """Weighted mean of the history items' normalised vectors (unknown SKUs are ignored)."""
    pairs = [(m.index[s], w) for s, w in zip(history, weights or [1.0] * len(history), strict=True) if s in m.index]
    if not pairs:
        raise VitrineError(f"none of the history SKUs ({', '.join(history[:5])}) have vectors in {m.name!r}")
    rows = [r for r, _ in pairs]
    w = np.asarray([w for _, w in pairs], dtype=np.float32)
    profile = (m.vectors[rows] * w[:, None]).sum(axis=0) / max(float(w.sum()), 1e-12)
    return normalise(profile), rows


def recency_weights(n: int, half_life: float) -> list[float]:
    """Newest-last history gets weight 1, halving every `half_life` items back."""
    return [0.5 ** ((n - 1 - i) / half_life) for i in range(n)]


def recommend(lab: Lab, history: list[str], k: int = 10, representation: str | None = None, *,
              half_life: float | None = None, explain: bool = True) -> Ranking:
    """Top-k items nearest the shopper's profile, never an item from the history. A k beyond the candidates is
    clamped to them; the Ranking's pool says so, and says what a partial representation ranked over."""
    if not history:
        raise VitrineError("a shopper needs at least one history item")
    _check_k(k)
    m, items_version = _load_for_request(lab, representation or default_representation(lab))
    weights = recency_weights(len(history), half_life) if half_life else None
    profile, rows = profile_vector(m, history, weights)
    ignored = tuple(s for s in dict.fromkeys(history) if s not in m.index)
    return _ranked(lab, m, profile, k, rows, items_version, explain=explain, ignored=ignored)


def _check_k(k: int) -> None:
    if k < 1:
        raise VitrineError(f"k must be at least 1 (got {k})")


def _load_for_request(lab: Lab, representation: str) -> tuple[Matrix, int]:
    """The matrix and the items table's version, checked in one round trip to LanceDB."""
    versions = _versions(lab, ("representations", table_slug(representation), "items"))
    return _load_matrix(lab, representation, versions), versions[2]


MAX_QUERY_CHARS = 1_000  # a query is words a shopper would type; longer text is a paste gone wrong


def search(lab: Lab, query: str, k: int = 10, representation: str | None = None) -> Ranking:
    """Free-text search: embed the query with the representation's encoder and rank by cosine (k clamped to the
    representation's items, as in recommend)."""
    if not query.strip():
        raise VitrineError("empty search query")
    if len(query) > MAX_QUERY_CHARS:
        raise VitrineError(f"search query is {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    _check_k(k)
    name = representation or default_representation(lab)
    rep = lab.store.representation(name)
    if rep["kind"] == "visual":
        raise VitrineError(f"{name!r} holds image features; text search needs a description or title representation")
    m, items_version = _load_for_request(lab, name)
    return _ranked(lab, m, lab.encoder.encode([query])[0], k, [], items_version)


def _ranked(lab: Lab, m: Matrix, query: np.ndarray, k: int, history_rows: list[int], items_version: int, *,
            explain: bool = False, ignored: tuple[str, ...] = ()) -> Ranking:
    """The top min(k, candidates) items, decorated, with the pool they were chosen from."""
    candidates = len(m.skus) - len(set(history_rows))
    idx, scores = nearest(lab, m, query, min(k, candidates), history_rows)
    recs = [Recommendation(m.skus[i], float(s)) for i, s in zip(idx, scores, strict=True)]
    labels = _item_labels(lab, items_version)
    covered = _memo(lab, ("covered", m.table), (), lambda: sum(s in labels for s in m.skus),
                    versions=(m.version, items_version))
    pool = Pool(m.name, covered, len(labels), candidates, k, ignored)
    return Ranking(_decorate(lab, recs, m, history_rows if explain else [], labels), pool)


def item_attributes(lab: Lab) -> dict[str, dict[str, list[str]]]:
    """SKU -> attributes from the active description run (explanations use the merchandiser's prompt)."""
    return _memo(lab, ("attributes", _prompt_files(lab)), ATTRIBUTE_TABLES, lambda: _item_attributes(lab))


def _prompt_files(lab: Lab) -> tuple[str, ...]:
    """The prompt library's version files: a bare active-prompt name means its newest version."""
    return tuple(sorted(p.name for p in lab.prompts.root.glob("*/v*.md")))


def _item_attributes(lab: Lab) -> dict[str, dict[str, list[str]]]:
    prompt = lab.active_prompt()
    provider, model = lab.active_provider()
    descs = lab.store.descriptions(prompt_hash=prompt.hash, provider=provider, model=model or None)
    if descs.empty:
        descs = lab.store.descriptions()
    by_sha = {sha: json.loads(attributes or "{}") for sha, attributes, error in
              zip(descs["image_sha256"].tolist(), descs["attributes"].tolist(), descs["error"].tolist(), strict=True)
              if not error}
    items = lab.store.rows("items", columns=["sku", "image_sha256"])  # not Store.items(): no extra JSON to parse
    if items is None:
        return {}
    pairs = sorted(zip(items["sku"].to_pylist(), items["image_sha256"].to_pylist(), strict=True))
    return {sku: by_sha.get(sha, {}) for sku, sha in pairs}


def _decorate(lab: Lab, recs: list[Recommendation], m: Matrix, history_rows: list[int],
              items: dict[str, tuple[str, str, str]]) -> list[Recommendation]:
    """Add titles and the 'because you liked X (shared: ...)' explanation."""
    attrs = item_attributes(lab) if history_rows else {}
    for rec in recs:
        if rec.sku in items:
            rec.title, rec.category, rec.image_sha256 = items[rec.sku]
        if history_rows:
            sims = m.vectors[history_rows] @ m.vectors[m.index[rec.sku]]
            rec.closest_history = m.skus[history_rows[int(np.argmax(sims))]]
            mine, theirs = attrs.get(rec.sku, {}), attrs.get(rec.closest_history, {})
            rec.shared_attributes = {f: sorted(set(mine.get(f, [])) & set(theirs.get(f, []))) for f in FACETS
                                     if set(mine.get(f, [])) & set(theirs.get(f, []))}
    return recs


def _item_labels(lab: Lab, items_version: int) -> dict[str, tuple[str, str, str]]:
    """SKU -> (title, category, image sha), read once per items-table version."""

    def read() -> dict[str, tuple[str, str, str]]:
        table = lab.store.open_table("items")
        if table is None:
            return {}
        columns = ["sku", "title", "category", "image_sha256"]
        cols = table.search().select(columns).limit(None).to_arrow()
        return {s: (t, c, h) for s, t, c, h in zip(*(cols[n].to_pylist() for n in columns), strict=True)}

    return _memo(lab, ("labels",), ("items",), read, versions=(items_version,))
