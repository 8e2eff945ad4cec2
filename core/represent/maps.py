"""2-D semantic maps: a UMAP of one representation, fitted once per (vectors, parameters) and reused.

The fit runs UMAP on the exact cosine k-nearest-neighbour graph, computed with numpy's BLAS, from a PCA start:
no pynndescent index is built (or compiled by numba) and no eigendecomposition of the graph is needed. A fit is
cached in memory and on disk under <workspace>/maps/ as `<key>.npz` (SKUs and coordinates, read back in
milliseconds without importing umap), and with the items' display columns as a view file (core.represent.map_points)
that a new process reads alone while the tables it came from are unchanged. New vectors are placed the way UMAP's
`transform` starts them, from their exact neighbours among the fitted vectors, so placing needs neither umap nor a
pickled model. Above LANDMARKS vectors, UMAP is fitted (LANDMARK_EPOCHS) on a seeded sample of LANDMARKS of them and
the rest are placed that way, both neighbour searches among nearby clusters of the sample only, so a 100k-item map
costs one 10k fit plus a few matrix products. Catalogues with fewer than MIN_ITEMS vectors get a MapError rather
than a meaningless map.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.catalog.store import table_slug
from core.errors import VitrineError
from core.lab import Lab
from core.models import FACETS
from core.nets.encoders import normalise
from core.represent import map_points
from core.represent.map_points import PROMPT_VERSION, View
from core.represent.recommend import Matrix, data_versions, load_matrix
from core.workers import in_worker_process

MIN_ITEMS = 4  # UMAP needs n_neighbors >= 2, and fewer points make no map worth drawing
N_EPOCHS = 200  # UMAP's own default above 10k items; its 500 below would make the layout 2.5x as slow
LANDMARK_EPOCHS = 100  # a landmark fit's: as trustworthy as 200 in bench/maps_large.py, in half the layout time
RECIPE = 2  # bump when the fitting recipe changes, so maps cached by an older recipe are not reused
LANDMARKS = 10_000  # above this many vectors UMAP sees a seeded sample of this size; the rest are placed
EXACT_PAIRS = 50_000_000  # (queries x vectors) up to which placing searches every vector; beyond, nearby clusters
CLUSTERS = 64  # clusters of the fitted vectors that a large placement searches through
PROBE = 6  # a query searches the clusters nearest its own cluster: about PROBE / CLUSTERS of the vectors

MEMORY_FITS = 16  # fits kept in memory per process; older ones are re-read from disk when needed
DISK_FITS = 3  # fits kept on disk per representation; older ones (stale vectors or parameters) are deleted

_FITS: dict[tuple[str, str], Fit] = {}  # (maps folder, key) -> fit, most recently used last
_FIT_LOCK = threading.Lock()
_PENDING: dict[tuple[str, str], Future] = {}  # (maps folder, key) -> a fit under way in a worker process
_VIEWS: dict[tuple[str, str], tuple[tuple, Projection]] = {}  # (maps folder, view file) -> (data versions, map)


class MapError(VitrineError):
    """The map cannot be drawn for this representation (too few items, bad parameters, wrong dimension)."""


@dataclass
class Fit:
    """What a UMAP fit produces: one (x, y) per SKU."""

    skus: list[str]
    xy: np.ndarray


@dataclass
class Projection:
    """A representation laid out in 2-D: points carry sku, x, y, title, category, image_sha256, facets and
    prompt_version (the last two as tuples of values: an item may have several); vectors are the (unit) vectors the
    map was fitted on, row for row with the fit, for placing new ones (read only when something is placed)."""

    representation: str
    key: str
    points: pd.DataFrame
    n_neighbors: int
    _fit: Fit = field(repr=False)
    _vectors: Callable[[], np.ndarray] = field(repr=False)

    @cached_property
    def vectors(self) -> np.ndarray:
        return self._vectors()

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]


def project(lab: Lab, representation: str, *, n_neighbors: int = 15, min_dist: float = 0.1,
            seed: int = 42) -> Projection:
    """UMAP (cosine) of a representation's vectors; refits only when the vectors, SKUs or parameters change, and
    re-reads the items' columns only when the items, descriptions or active prompt change."""
    _check(n_neighbors, min_dist)
    folder = lab.workspace.root / "maps"
    view = folder / _view_name(representation, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed)
    now = data_versions(lab, representation)  # before reading anything: a write after it only makes the view stale
    with _FIT_LOCK:
        held = _VIEWS.pop((str(folder), view.name), None)
        if held is not None and held[0] == now:
            projection = held[1]
        else:
            projection = _open(lab, representation, view, now, n_neighbors=n_neighbors, min_dist=min_dist,
                               seed=seed)
        _VIEWS[str(folder), view.name] = (now, projection)  # most recently used last
        while len(_VIEWS) > MEMORY_FITS:
            _VIEWS.pop(next(iter(_VIEWS)))
    return dataclasses.replace(projection, points=projection.points.copy(deep=False))  # callers may add columns


def _open(lab: Lab, representation: str, view: Path, now: tuple[tuple, tuple], **requested: Any) -> Projection:
    """The map from its view file while the data it shows is unchanged, else from its fit (reading the vectors)."""
    saved = map_points.read_view(view)
    if saved is not None and saved.vectors == now[0]:
        if saved.items == now[1]:
            points = map_points.read_points(view)
        else:  # the same coordinates, other titles or attributes
            xy = map_points.read_points(view)
            points = map_points.item_columns(lab, xy["sku"].tolist(), xy[["x", "y"]].to_numpy(np.float32))
            map_points.write(view, points, dataclasses.replace(saved, items=now[1]))
        shown = Fit(points["sku"].tolist(), points[["x", "y"]].to_numpy(np.float32))
        return Projection(representation, saved.key, points, saved.params["n_neighbors"], shown,
                          _fitted_vectors(lab, representation, saved))
    m, params, folder, key = _identity(lab, representation, **requested)
    pending = _PENDING.pop((str(folder), key), None)
    if pending is not None:
        pending.exception()  # wait for the worker; if it failed, the fit below runs here instead
    fit = _FITS.pop((str(folder), key), None) or _read(folder, key)
    if fit is None:
        fit = _fit_and_write(folder, key, list(m.skus), m.vectors, **params)
    _FITS[str(folder), key] = fit  # most recently used last
    while len(_FITS) > MEMORY_FITS:
        _FITS.pop(next(iter(_FITS)))
    points = map_points.item_columns(lab, fit.skus, fit.xy)
    map_points.write(view, points, View(now[0], now[1], key, params))
    _prune(folder, view.name.rsplit("-", 1)[0], ".arrow")
    return Projection(representation, key, points, params["n_neighbors"], fit, lambda: m.vectors)


def _fitted_vectors(lab: Lab, representation: str, saved: View) -> Callable[[], np.ndarray]:
    """Reads the vectors a view's map was fitted on, when placing needs them; a MapError if they changed since."""

    def load() -> np.ndarray:
        m = load_matrix(lab, representation)
        if m.version != saved.vectors[1] and cache_key(m, **saved.params) != saved.key:
            raise MapError(f"the vectors of {representation!r} changed since its map was opened: open it again")
        return m.vectors

    return load


def prefit(lab: Lab, representation: str) -> Future | None:
    """Start fitting a representation's default map in a worker process; None when fitted already or too small.

    Called when the app opens, so that the Semantic Map's first visit finds its default map fitted (project()
    waits for a fit under way rather than starting another). A process, not a thread: umap's numba kernels hold
    the GIL for seconds, which would stall every page the server renders meanwhile.
    """
    folder = lab.workspace.root / "maps"
    saved = map_points.read_view(folder / _view_name(representation))
    if saved is not None and saved.vectors == data_versions(lab, representation)[0]:
        return None  # the map is current: no need to read the vectors to find out
    try:
        m, params, folder, key = _identity(lab, representation)
    except MapError:
        return None
    with _FIT_LOCK:
        if (str(folder), key) in _FITS or (folder / f"{key}.npz").exists():
            return None
        if (str(folder), key) not in _PENDING:
            _PENDING[str(folder), key] = in_worker_process(_fit_and_write, folder, key, list(m.skus), m.vectors,
                                                           **params)
        return _PENDING[str(folder), key]


def place(projection: Projection, vectors: np.ndarray) -> np.ndarray:
    """(n, 2) map positions for new vectors, where UMAP's `transform` starts them; the fitted map is left as it is.

    Each vector goes to the membership-weighted mean of its n_neighbors nearest fitted items' positions (onto an
    item it duplicates). `transform` would then nudge it for a few dozen epochs; that refinement is skipped, so
    placing is one matrix product without importing umap.
    """
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    if vectors.shape[0] == 0:
        return np.zeros((0, 2), np.float32)
    if vectors.shape[1] != projection.dim:
        raise MapError(f"cannot place {vectors.shape[1]}-d vectors on the {projection.dim}-d map of "
                       f"{projection.representation!r}")
    return _place(normalise(vectors), projection.vectors, projection._fit.xy, projection.n_neighbors)


def colour_options(points: pd.DataFrame) -> list[str]:
    """Columns a map can be coloured by: category, every facet some item has, and the prompt versions."""
    facets = [f for f in FACETS if f in points and points[f].map(len).gt(0).any()]
    return ["category", *facets, PROMPT_VERSION]


def cache_key(m: Matrix, **params: object) -> str:
    """Content identity of a fit (representation, SKUs, vector bytes, parameters, recipe), prefixed by the
    representation's slug so that its older fits can be found and pruned."""
    h = hashlib.sha256(json.dumps([RECIPE, m.name, sorted(params.items())]).encode())
    h.update("\n".join(m.skus).encode())
    h.update(np.ascontiguousarray(m.vectors, dtype=np.float32).tobytes())
    return f"{table_slug(m.name).removeprefix('vec_')}-{h.hexdigest()[:24]}"


def warm_up() -> None:
    """Fit a tiny map so that numba compiles UMAP's kernels into its disk cache (run by `make install`)."""
    vectors = normalise(np.random.default_rng(0).standard_normal((64, 8)).astype(np.float32))
    _fit(vectors, n_neighbors=15, min_dist=0.1, seed=0)


def _check(n_neighbors: int, min_dist: float) -> None:
    if n_neighbors < 2:
        raise MapError(f"n_neighbors must be at least 2 (got {n_neighbors})")
    if not 0.0 <= min_dist <= 1.0:
        raise MapError(f"min_dist must be between 0 and 1 (got {min_dist})")


def _view_name(representation: str, **requested: Any) -> str:
    """The view file of a map as requested (its effective parameters depend on the catalogue's size, and on how
    large a catalogue gets landmarks)."""
    params = {"n_neighbors": 15, "min_dist": 0.1, "seed": 42} | requested
    identity = [RECIPE, LANDMARKS, LANDMARK_EPOCHS, representation, sorted(params.items())]
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    return f"{table_slug(representation).removeprefix('vec_')}-view-{digest[:16]}.arrow"


def _identity(lab: Lab, representation: str, *, n_neighbors: int = 15, min_dist: float = 0.1,
              seed: int = 42) -> tuple[Matrix, dict, Path, str]:
    """The vectors, checked fit parameters, maps folder and cache key of a map."""
    _check(n_neighbors, min_dist)
    m = load_matrix(lab, representation)
    n = len(m.skus)
    if n < MIN_ITEMS:
        raise MapError(f"{representation!r} has {n} item vector(s); a map needs at least {MIN_ITEMS}")
    params: dict[str, Any] = {"n_neighbors": min(n_neighbors, n - 1), "min_dist": min_dist, "seed": seed}
    if n > LANDMARKS:  # only then, so that smaller maps keep the cache keys they were fitted under
        params |= {"landmarks": LANDMARKS, "epochs": LANDMARK_EPOCHS}
    return m, params, lab.workspace.root / "maps", cache_key(m, **params)


def _fit_and_write(folder: Path, key: str, skus: list[str], vectors: np.ndarray, **params: Any) -> Fit:
    """Fit and store a map (also the body of prefit's worker process)."""
    fit = Fit(skus, _fit(vectors, **params))
    _write(folder, key, fit)
    return fit


def _fit(vectors: np.ndarray, *, n_neighbors: int, min_dist: float, seed: int, landmarks: int | None = None,
         epochs: int = N_EPOCHS) -> np.ndarray:
    """(n, 2) UMAP layout of unit vectors; with `landmarks`, UMAP lays out a seeded sample of that many and every
    other vector is placed from its nearest landmarks, as `place` does."""
    with ThreadPoolExecutor(1) as pool:
        umap_class = pool.submit(_umap_class)  # seconds of imports, meanwhile BLAS (GIL released) finds neighbours
        if landmarks is None or landmarks >= len(vectors):
            return _umap_layout(vectors, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed, epochs=epochs,
                                umap_class=umap_class)
        chosen = landmark_rows(len(vectors), landmarks, seed)
        rest = np.setdiff1d(np.arange(len(vectors)), chosen)
        sample = vectors[chosen]
        # one k-means of the landmarks, when a search is large enough to need it: their own graph, placing the rest
        clusters = _Clusters(sample, seed) if len(sample) * max(len(sample), len(rest)) > EXACT_PAIRS else None
        k = min(n_neighbors, landmarks - 1)
        graph = _knn(sample, sample, k, clusters)
        near = _knn(vectors[rest], sample, n_neighbors, clusters)  # needs no positions: searched during the import
        xy = np.empty((len(vectors), 2), np.float32)
        xy[chosen] = _umap_layout(sample, n_neighbors=k, min_dist=min_dist, seed=seed, epochs=epochs, graph=graph,
                                  umap_class=umap_class)
    xy[rest] = _placed(*near, xy[chosen], n_neighbors)
    return xy


def landmark_rows(n: int, landmarks: int, seed: int) -> np.ndarray:
    """The sorted rows of a seeded landmark sample: the same catalogue and seed always give the same landmarks."""
    return np.sort(np.random.default_rng(seed).choice(n, size=landmarks, replace=False))


def _umap_layout(vectors: np.ndarray, *, n_neighbors: int, min_dist: float, seed: int, epochs: int = N_EPOCHS,
                 graph: tuple[np.ndarray, np.ndarray] | None = None, umap_class: Future | None = None) -> np.ndarray:
    """(n, 2) UMAP layout of unit vectors from their cosine neighbour graph (exact unless given) and a PCA start;
    umap_class: its import under way."""
    indices, dists = graph if graph is not None else _neighbours(vectors, vectors, n_neighbors)
    model_class = umap_class.result() if umap_class is not None else _umap_class()
    with warnings.catch_warnings():  # umap warns that without a search index it cannot `transform`: we place
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        model = model_class(n_neighbors=n_neighbors, min_dist=min_dist, metric="cosine", random_state=seed,
                            init="pca", n_epochs=epochs, n_jobs=1, precomputed_knn=(indices, dists))
        return np.asarray(model.fit(vectors).embedding_, dtype=np.float32)


def _place(queries: np.ndarray, vectors: np.ndarray, xy: np.ndarray, k: int,
           clusters: _Clusters | None = None) -> np.ndarray:
    """Unit queries placed at the membership-weighted mean of their k nearest vectors' positions (onto a duplicate)."""
    return _placed(*_knn(queries, vectors, k, clusters), xy, k)


def _placed(indices: np.ndarray, dists: np.ndarray, xy: np.ndarray, k: int) -> np.ndarray:
    """Positions from k nearest neighbours (indices into xy, cosine distances), as `_place` describes."""
    weights = np.exp(-dists / _bandwidths(dists, k)[:, None])
    placed = np.einsum("ij,ijk->ik", weights / weights.sum(axis=1, keepdims=True), xy[indices])
    duplicate = dists[:, 0] < 1e-6  # the item's own vector, up to float32 rounding
    placed[duplicate] = xy[indices[duplicate, 0]]
    return placed.astype(np.float32)


def _neighbours(queries: np.ndarray, vectors: np.ndarray, k: int, chunk: int = 1024) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Exact cosine k nearest neighbours of unit queries among unit vectors, nearest first: (int32 indices,
    float32 distances). Chunked BLAS products bound the memory; on 10k items this beats building an ANN index."""
    indices = np.empty((len(queries), k), np.int32)
    dists = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ vectors.T
        top = np.argpartition(sims, -k, axis=1)[:, -k:]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1)
        indices[start:start + chunk] = np.take_along_axis(top, order, axis=1)
        dists[start:start + chunk] = np.maximum(1.0 - np.take_along_axis(top_sims, order, axis=1), 0.0)
    return indices, dists


def _knn(queries: np.ndarray, vectors: np.ndarray, k: int, clusters: _Clusters | None = None) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """k nearest neighbours: exact, or, for many queries against many vectors given their clusters (a landmark map:
    the landmarks' own graph, and the other 90k items), searched among nearby clusters only."""
    if clusters is None or len(queries) * len(vectors) <= EXACT_PAIRS:
        return _neighbours(queries, vectors, k)
    return _clustered_neighbours(queries, vectors, k, clusters)


class _Clusters:
    """A spherical k-means of unit vectors into CLUSTERS, and for each cluster the PROBE clusters nearest to it."""

    def __init__(self, vectors: np.ndarray, seed: int) -> None:
        rng = np.random.default_rng(seed)
        centres = vectors[rng.choice(len(vectors), size=min(CLUSTERS, len(vectors)), replace=False)]
        for _ in range(8):
            member = np.argmax(vectors @ centres.T, axis=1)
            sums = np.stack([vectors[member == c].sum(axis=0) for c in range(len(centres))])  # np.add.at: 10x slower
            filled = np.linalg.norm(sums, axis=1) > 0
            centres[filled] = normalise(sums[filled])
        self.centres = centres
        self.member = np.argmax(vectors @ centres.T, axis=1)
        self.near = np.argsort(-(centres @ centres.T), axis=1)[:, :PROBE]


def _clustered_neighbours(queries: np.ndarray, vectors: np.ndarray, k: int, clusters: _Clusters) -> tuple[
        np.ndarray, np.ndarray]:
    """Nearly exact k nearest neighbours at a fraction of the cost (an inverted-file search): each query is compared
    with the vectors of the PROBE clusters nearest to its own. bench/maps_large.py measures how many of the exact
    neighbours it finds."""
    own = np.argmax(queries @ clusters.centres.T, axis=1)
    indices = np.empty((len(queries), k), np.int32)
    dists = np.empty((len(queries), k), np.float32)
    for c in np.unique(own):
        rows = np.flatnonzero(own == c)
        candidates = np.flatnonzero(np.isin(clusters.member, clusters.near[c]))
        if len(candidates) < k:
            candidates = np.arange(len(vectors))
        found, dists[rows] = _neighbours(queries[rows], vectors[candidates], k)
        indices[rows] = candidates[found]
    return indices, dists


def _bandwidths(dists: np.ndarray, k: int) -> np.ndarray:
    """Per-row sigma with sum_j exp(-d_j / sigma) = log2(k) over all but the nearest neighbour: umap's
    smooth_knn_dist as `transform` calls it (local connectivity 0), as a vectorised bisection."""
    target = np.log2(k)
    lo, hi, mid = np.zeros(len(dists)), np.full(len(dists), np.inf), np.ones(len(dists))
    rows = np.arange(len(dists))
    for _ in range(64):  # a row stops once within umap's SMOOTH_K_TOLERANCE of the target, as umap's loop does
        total = np.exp(-dists[rows, 1:] / mid[rows, None]).sum(axis=1)
        open_ = np.abs(total - target) >= 1e-5
        rows, total = rows[open_], total[open_]
        if not len(rows):
            break
        above = total > target
        hi[rows] = np.where(above, mid[rows], hi[rows])
        lo[rows] = np.where(above, lo[rows], mid[rows])
        mid[rows] = np.where(np.isinf(hi[rows]), mid[rows] * 2, (lo[rows] + hi[rows]) / 2)
    return np.maximum(mid, 1e-3 * dists.mean())  # umap's MIN_K_DIST_SCALE floor


@cache
def _umap_class() -> type:
    """Import umap lazily and let numba cache its kernels on disk.

    umap-learn compiles its kernels without cache=True, which costs seconds in every new process; with numba's
    on-disk cache switched on, only the first process on a machine (or `make install`'s warm_up) pays for them.
    """
    import umap
    import umap.distances
    import umap.layouts
    import umap.sparse
    import umap.umap_
    import umap.utils
    from numba.core.dispatcher import Dispatcher

    for module in (umap.umap_, umap.layouts, umap.utils, umap.distances, umap.sparse):
        for fn in vars(module).values():
            if isinstance(fn, Dispatcher):
                with suppress(RuntimeError):  # no writable cache location: numba just compiles as before
                    fn.enable_caching()
    return umap.UMAP


def _read(folder: Path, key: str) -> Fit | None:
    """Coordinates of an earlier fit from disk, if there is one."""
    coords = folder / f"{key}.npz"
    if not coords.exists():
        return None
    with np.load(coords, allow_pickle=False) as data:
        return Fit([str(s) for s in data["skus"]], data["xy"].astype(np.float32))


def _write(folder: Path, key: str, fit: Fit) -> None:
    """Coordinates via tmp + rename, so a crash never leaves a readable half-fit; then only the newest DISK_FITS
    fits of the representation are kept (with any other file of an older fit, such as recipe 1's model pickle)."""
    folder.mkdir(parents=True, exist_ok=True)
    coords_tmp = folder / f"{key}.tmp.npz"
    np.savez(coords_tmp, skus=np.asarray(fit.skus, dtype=str), xy=fit.xy)
    coords_tmp.replace(folder / f"{key}.npz")
    _prune(folder, key.rsplit("-", 1)[0], ".npz")


def _prune(folder: Path, prefix: str, suffix: str) -> None:
    """Keep the newest DISK_FITS files `<prefix>-*<suffix>` (and delete every other file of an older one)."""
    older = sorted(folder.glob(f"{prefix}-*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)[DISK_FITS:]
    for stale in older:
        for path in folder.glob(f"{stale.stem}.*"):
            path.unlink(missing_ok=True)

