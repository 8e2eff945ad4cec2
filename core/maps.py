"""2-D semantic maps: a UMAP of one representation, fitted once per (vectors, parameters) and reused.

A fit is cached in memory and on disk under <workspace>/maps/: `<key>.npz` holds the coordinates (read back in
milliseconds, without importing umap) and `<key>.pkl` the fitted model, unpickled only when a new vector has to be
placed with `transform`. Catalogues with fewer than MIN_ITEMS vectors get a MapError rather than a meaningless map.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.encoders import normalise
from core.errors import VitrineError
from core.lab import Lab
from core.models import FACETS
from core.recommend import Matrix, item_attributes, load_matrix
from core.store import table_slug

MIN_ITEMS = 4  # UMAP needs n_neighbors >= 2 and its spectral init fails below 4 points
SPECTRAL_MIN_ITEMS = 16  # below this the graph is too small for a stable spectral start: start from random
RECIPE = 1  # bump when the fitting recipe changes, so maps cached by an older recipe are not reused
NONE = "(none)"
PROMPT_VERSION = "prompt_version"

MEMORY_FITS = 16  # fits kept in memory per process; older ones are re-read from disk when needed
DISK_FITS = 3  # fits kept on disk per representation; older ones (stale vectors or parameters) are deleted

_FITS: dict[tuple[str, str], Fit] = {}  # (maps folder, key): a fit read from disk loads its model from there
_FIT_LOCK = threading.Lock()


class MapError(VitrineError):
    """The map cannot be drawn for this representation (too few items, bad parameters, wrong dimension)."""


@dataclass
class Fit:
    """What a UMAP fit produces: one (x, y) per SKU, and the model (None until loaded from disk)."""

    skus: list[str]
    xy: np.ndarray
    model: Any = None


@dataclass
class Projection:
    """A representation laid out in 2-D: points carry sku, x, y, title, category, facets and prompt_version."""

    representation: str
    key: str
    points: pd.DataFrame
    dim: int
    n_neighbors: int
    model_path: Path
    _fit: Fit = field(repr=False)

    @property
    def model(self) -> Any:
        """The fitted umap.UMAP; unpickled on first use because importing umap alone takes seconds."""
        if self._fit.model is None:
            with _FIT_LOCK:
                if self._fit.model is None:
                    _umap_class()  # the import that also turns on numba's disk cache
                    with self.model_path.open("rb") as fh:
                        self._fit.model = pickle.load(fh)  # noqa: S301 - our own file in the user's workspace
        return self._fit.model


def project(lab: Lab, representation: str, *, n_neighbors: int = 15, min_dist: float = 0.1,
            seed: int = 42) -> Projection:
    """UMAP (cosine) of a representation's vectors; refits only when the vectors, SKUs or parameters change."""
    if n_neighbors < 2:
        raise MapError(f"n_neighbors must be at least 2 (got {n_neighbors})")
    if not 0.0 <= min_dist <= 1.0:
        raise MapError(f"min_dist must be between 0 and 1 (got {min_dist})")
    m = load_matrix(lab, representation)
    n = len(m.skus)
    if n < MIN_ITEMS:
        raise MapError(f"{representation!r} has {n} item vector(s); a map needs at least {MIN_ITEMS}")
    n_neighbors = min(n_neighbors, n - 1)
    key = cache_key(m, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed)
    folder = lab.workspace.root / "maps"
    with _FIT_LOCK:
        fit = _FITS.pop((str(folder), key), None) or _read(folder, key)
        if fit is None:
            model = _fit(m.vectors, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed)
            fit = Fit(list(m.skus), np.asarray(model.embedding_, dtype=np.float32), model)
            _write(folder, key, fit)
        _FITS[str(folder), key] = fit  # most recently used last
        while len(_FITS) > MEMORY_FITS:
            _FITS.pop(next(iter(_FITS)))
    return Projection(representation, key, _points(lab, fit), m.vectors.shape[1], n_neighbors,
                      folder / f"{key}.pkl", fit)


def place(projection: Projection, vectors: np.ndarray) -> np.ndarray:
    """(n, 2) map positions for new vectors via the fitted model's transform; the fitted map is left as it is."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    if vectors.shape[0] == 0:
        return np.zeros((0, 2), np.float32)
    if vectors.shape[1] != projection.dim:
        raise MapError(f"cannot place {vectors.shape[1]}-d vectors on the {projection.dim}-d map of "
                       f"{projection.representation!r}")
    return np.asarray(projection.model.transform(normalise(vectors)), dtype=np.float32)


def colour_options(points: pd.DataFrame) -> list[str]:
    """Columns a map can be coloured by: category, every facet some item has, and the prompt versions."""
    facets = [f for f in FACETS if f in points and (points[f] != NONE).any()]
    return ["category", *facets, PROMPT_VERSION]


def cache_key(m: Matrix, **params: object) -> str:
    """Content identity of a fit (representation, SKUs, vector bytes, parameters, recipe), prefixed by the
    representation's slug so that its older fits can be found and pruned."""
    h = hashlib.sha256(json.dumps([RECIPE, m.name, sorted(params.items())]).encode())
    h.update("\n".join(m.skus).encode())
    h.update(np.ascontiguousarray(m.vectors, dtype=np.float32).tobytes())
    return f"{table_slug(m.name).removeprefix('vec_')}-{h.hexdigest()[:24]}"


def _fit(vectors: np.ndarray, *, n_neighbors: int, min_dist: float, seed: int) -> Any:
    umap_class = _umap_class()
    init = "spectral" if len(vectors) >= SPECTRAL_MIN_ITEMS else "random"
    return umap_class(n_neighbors=n_neighbors, min_dist=min_dist, metric="cosine", random_state=seed,
                      init=init, n_jobs=1).fit(vectors)


@cache
def _umap_class() -> type:
    """Import umap lazily and let numba cache its kernels on disk.

    umap-learn compiles its parallel kernels without cache=True, which costs ~20-30 s in every new process;
    with numba's on-disk cache switched on, only the first process on a machine pays for the compilation.
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
                try:
                    fn.enable_caching()
                except RuntimeError:  # no writable cache location: numba just compiles as before
                    pass
    return umap.UMAP


def _read(folder: Path, key: str) -> Fit | None:
    """Coordinates from disk when both files of an earlier fit are there; the model stays on disk."""
    coords, model = folder / f"{key}.npz", folder / f"{key}.pkl"
    if not (coords.exists() and model.exists()):
        return None
    with np.load(coords, allow_pickle=False) as data:
        return Fit([str(s) for s in data["skus"]], data["xy"].astype(np.float32))


def _write(folder: Path, key: str, fit: Fit) -> None:
    """Model first, coordinates last (each via tmp + rename), so a crash never leaves a readable half-fit;
    then only the newest DISK_FITS fits of the representation are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    model_tmp = folder / f"{key}.pkl.tmp"
    with model_tmp.open("wb") as fh:
        pickle.dump(fit.model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    model_tmp.replace(folder / f"{key}.pkl")
    coords_tmp = folder / f"{key}.tmp.npz"
    np.savez(coords_tmp, skus=np.asarray(fit.skus, dtype=str), xy=fit.xy)
    coords_tmp.replace(folder / f"{key}.npz")
    slug = key.rsplit("-", 1)[0]
    older = sorted(folder.glob(f"{slug}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)[DISK_FITS:]
    for stale in older:
        stale.unlink(missing_ok=True)
        stale.with_suffix(".pkl").unlink(missing_ok=True)


def _points(lab: Lab, fit: Fit) -> pd.DataFrame:
    """Coordinates joined with the current item metadata (titles can change without the vectors changing)."""
    items = lab.store.items().set_index("sku")
    attrs = item_attributes(lab)
    runs = _prompt_coverage(lab)
    rows = []
    for sku, (x, y) in zip(fit.skus, fit.xy, strict=True):
        item = items.loc[sku] if sku in items.index else None
        facets = attrs.get(sku, {})
        sha = "" if item is None else item["image_sha256"]
        rows.append({
            "sku": sku, "x": float(x), "y": float(y),
            "title": "" if item is None else item["title"],
            "category": NONE if item is None else item["category"],
            **{f: ", ".join(facets.get(f, [])) or NONE for f in FACETS},
            PROMPT_VERSION: runs.get(sha, NONE),
        })
    return pd.DataFrame(rows)


def _prompt_coverage(lab: Lab) -> dict[str, str]:
    """Image sha -> the prompt versions with a successful description of it, e.g. 'appearance@v1, preference@v1'."""
    descs = lab.store.descriptions()
    descs = descs[descs["error"] == ""]
    refs = descs["prompt_name"] + "@v" + descs["prompt_version"].astype(str)
    return {sha: ", ".join(sorted(set(group))) for sha, group in refs.groupby(descs["image_sha256"])}
