"""Profile = mean of history vectors; recommendations = cosine top-k with history excluded."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np

from core.encoders import normalise
from core.errors import VitrineError
from core.lab import Lab
from core.models import FACETS

_CACHE: dict[tuple[str, str], tuple[int, list[str], np.ndarray, dict[str, int]]] = {}
_CACHE_LOCK = threading.Lock()


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


@dataclass
class Matrix:
    """A representation's vectors in memory, reloaded only when its LanceDB version changes."""

    name: str
    skus: list[str]
    vectors: np.ndarray
    index: dict[str, int]


def load_matrix(lab: Lab, representation: str) -> Matrix:
    table = lab.store.representation(representation)["table"]
    vt = lab.store.vector_table(table)
    version = vt.version if vt is not None else 0
    cache_key = (lab.store.uri, table)
    with _CACHE_LOCK:
        hit = _CACHE.get(cache_key)
    if hit is None or hit[0] != version:
        skus, vectors, version = lab.store.vectors(table)
        hit = (version, skus, normalise(vectors) if len(skus) else vectors, {s: i for i, s in enumerate(skus)})
        with _CACHE_LOCK:
            _CACHE[cache_key] = hit
    return Matrix(representation, hit[1], hit[2], hit[3])


def default_representation(lab: Lab) -> str:
    """The active prompt's run if it exists, else any description run, else title."""
    reps = lab.store.representations()
    if reps.empty:
        raise VitrineError("this workspace has no representations yet: run `python -m core describe` first")
    active = lab.active_prompt().hash
    provider, _ = lab.active_provider()
    for prefer in (
        (reps["prompt_hash"] == active) & (reps["provider"] == provider),
        reps["kind"] == "description",
        reps["kind"] == "title",
    ):
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
              half_life: float | None = None, explain: bool = True) -> list[Recommendation]:
    """Top-k items nearest the shopper's profile, never an item from the history."""
    if not history:
        raise VitrineError("a shopper needs at least one history item")
    if k < 1:
        raise VitrineError("k must be at least 1")
    m = load_matrix(lab, representation or default_representation(lab))
    weights = recency_weights(len(history), half_life) if half_life else None
    profile, rows = profile_vector(m, history, weights)
    idx, scores = top_k(m.vectors, profile, k, rows)
    recs = [Recommendation(m.skus[i], float(s)) for i, s in zip(idx, scores, strict=True)]
    return _decorate(lab, recs, m, rows if explain else [])


def search(lab: Lab, query: str, k: int = 10, representation: str | None = None) -> list[Recommendation]:
    """Free-text search: embed the query with the representation's encoder and rank by cosine."""
    if not query.strip():
        raise VitrineError("empty search query")
    name = representation or default_representation(lab)
    rep = lab.store.representation(name)
    if rep["kind"] == "visual":
        raise VitrineError(f"{name!r} holds image features; text search needs a description or title representation")
    m = load_matrix(lab, name)
    q = lab.encoder.encode([query])[0]
    idx, scores = top_k(m.vectors, q, k, [])
    return _decorate(lab, [Recommendation(m.skus[i], float(s)) for i, s in zip(idx, scores, strict=True)], m, [])


def item_attributes(lab: Lab) -> dict[str, dict[str, list[str]]]:
    """SKU -> attributes from the active description run (explanations use the merchandiser's prompt)."""
    prompt = lab.active_prompt()
    provider, model = lab.active_provider()
    descs = lab.store.descriptions(prompt_hash=prompt.hash, provider=provider, model=model or None)
    if descs.empty:
        descs = lab.store.descriptions()
    by_sha = {r.image_sha256: json.loads(r.attributes or "{}") for r in descs.itertuples() if not r.error}
    items = lab.store.items()
    return {r.sku: by_sha.get(r.image_sha256, {}) for r in items.itertuples()}


def _decorate(lab: Lab, recs: list[Recommendation], m: Matrix, history_rows: list[int]) -> list[Recommendation]:
    """Add titles and the 'because you liked X (shared: ...)' explanation."""
    items = lab.store.items().set_index("sku")
    attrs = item_attributes(lab) if history_rows else {}
    for rec in recs:
        if rec.sku in items.index:
            row = items.loc[rec.sku]
            rec.title, rec.category, rec.image_sha256 = row["title"], row["category"], row["image_sha256"]
        if history_rows:
            sims = m.vectors[history_rows] @ m.vectors[m.index[rec.sku]]
            rec.closest_history = m.skus[history_rows[int(np.argmax(sims))]]
            mine, theirs = attrs.get(rec.sku, {}), attrs.get(rec.closest_history, {})
            rec.shared_attributes = {f: sorted(set(mine.get(f, [])) & set(theirs.get(f, []))) for f in FACETS
                                     if set(mine.get(f, [])) & set(theirs.get(f, []))}
    return recs
