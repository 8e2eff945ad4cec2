"""P5: the UMAP map of 10k items (core.maps): first fit incl. numba warm-up, cached re-open, placing a new SKU.

Usage: python bench/maps.py [--write] [--items 10000]

Each step runs in a fresh Python process, as a merchandiser opening the app would: (1) the first fit with an
empty numba cache (every kernel compiled), (2) the first fit of another representation once numba's disk cache
is warm, (3) re-opening the cached map, (4) placing one new SKU with `transform` in that re-opened process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, table, write_section  # noqa: I001 - sets sys.path first

import numpy as np

SECTION = "perf-P5"
STEP = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from core.encoders import HashEncoder
from core.lab import open_lab
from core.maps import place, project
lab = open_lab({ws!r}, encoder=HashEncoder())
t1 = time.perf_counter()
proj = project(lab, {rep!r})
t2 = time.perf_counter()
out = {{"import_s": t1 - t0, "project_s": t2 - t1, "points": len(proj.points)}}
if {recipe!r}:
    from core.maps import _points, _umap_class
    from core.recommend import load_matrix
    t = time.perf_counter(); _points(lab, proj._fit); out["points_s"] = time.perf_counter() - t
    vectors = load_matrix(lab, {rep!r}).vectors
    umap_class = _umap_class()
    import importlib, pkgutil, pynndescent
    from numba.core.dispatcher import Dispatcher
    for info in pkgutil.walk_packages(pynndescent.__path__, "pynndescent."):  # core.maps caches only umap's
        for fn in vars(importlib.import_module(info.name)).values():
            if isinstance(fn, Dispatcher):
                try:
                    fn.enable_caching()
                except RuntimeError:
                    pass
    t = time.perf_counter()
    model = umap_class(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=42, init="pca", n_epochs=200,
                       n_jobs=1).fit(vectors)
    out["recipe_s"] = time.perf_counter() - t
    t = time.perf_counter(); model.transform(vectors[:1]); out["recipe_transform_first_s"] = time.perf_counter() - t
    t = time.perf_counter(); model.transform(vectors[1:2]); out["recipe_transform_again_s"] = time.perf_counter() - t
if {place!r}:
    import numpy as np
    v = np.load({new!r})
    t3 = time.perf_counter()
    xy = place(proj, v)
    out["place_s"] = time.perf_counter() - t3
    out["xy"] = xy.tolist()
print("RESULT" + json.dumps(out))
"""


def run_step(ws: Path, rep: str, env: dict, place: bool = False, new: str = "", recipe: bool = False) -> dict:
    code = STEP.format(root=str(ROOT), ws=str(ws), rep=rep, place=place, new=new, recipe=recipe)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(line.removeprefix("RESULT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    from retrieval import clustered  # the P1 generator: MiniLM-like vectors

    from core.encoders import HashEncoder
    from core.lab import open_lab

    with tempfile.TemporaryDirectory(prefix="vitrine-p5-") as tmp:
        ws = Path(tmp) / "ws"
        lab = open_lab(ws, encoder=HashEncoder())
        vectors, _ = clustered(args.items + 1, seed=5)
        lab.store.upsert_items([{"sku": f"S{i:06d}", "title": f"Item {i}", "category": ("apparel", "bags")[i % 2],
                                 "image_sha256": f"{i:064x}", "image_ext": "png", "extra": "{}", "added_at": ""}
                                for i in range(args.items)])
        for rep in ("first", "second"):
            table_name = lab.store.register_representation(rep, "description", vectors.shape[1])
            order = np.random.default_rng(len(rep)).permutation(args.items)  # different bytes: a separate fit
            lab.store.upsert_vectors(table_name, vectors.shape[1], [f"S{i:06d}" for i in order],
                                     [f"{i:064x}" for i in order], ["t"] * args.items, vectors[order])
        new = str(Path(tmp) / "new.npy")
        np.save(new, vectors[-1:])
        env = os.environ | {"NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}  # empty: a cold machine
        cold = run_step(ws, "first", env)
        warm = run_step(ws, "second", env)
        reopen = run_step(ws, "first", env, place=True, new=new)
        first_recipe = run_step(ws, "second", env, recipe=True)  # compiles the kernels the recipe adds
        recipe = run_step(ws, "second", env, recipe=True)
    rows = [
        {"step": "first fit, empty numba cache (fresh process)", "seconds": f"{cold['project_s']:.1f}",
         "target": "< 15 s", "verdict": "met" if cold["project_s"] < 15 else "missed"},
        {"step": "first fit of another representation, numba cache warm", "seconds": f"{warm['project_s']:.1f}",
         "target": "< 15 s", "verdict": "met" if warm["project_s"] < 15 else "missed"},
        {"step": "re-open the cached map (fresh process)", "seconds": f"{reopen['project_s']:.2f}",
         "target": "< 1 s", "verdict": "met" if reopen["project_s"] < 1 else "missed"},
        {"step": "place one new SKU with transform (unpickle + umap import + transform)",
         "seconds": f"{reopen['place_s']:.2f}", "target": "< 1 s",
         "verdict": "met" if reopen["place_s"] < 1 else "missed"},
    ]
    text = f"""`core.maps.project` on {args.items:,} MiniLM-like 384-d vectors (the P1 generator) with the default
parameters (cosine, n_neighbors 15), each step in a fresh Python process with NUMBA_CACHE_DIR pointing at a new empty
folder; `import core` + workspace open took {cold['import_s']:.1f} s and is not counted.

{table(rows, ["step", "seconds", "target", "verdict"])}

What would meet the targets (core/maps.py belongs to the maps work; measured here in a further fresh process,
numba cache warm, same vectors):
- the fit: umap.UMAP(..., init="pca", n_epochs=200), with numba's disk cache also switched on for
  pynndescent's kernels (UMAP's nearest-neighbour search; core.maps caches only umap's own), takes
  {recipe['recipe_s']:.1f} s in a fresh process instead of the {warm['project_s']:.0f} s above
  ({first_recipe['recipe_s']:.0f} s in the first process, which fills the cache). On 10k items the default
  spectral initialisation (an eigendecomposition of the 10k x 10k graph) is a large share, and 200 epochs are
  UMAP's own default above 10k items. In a long-lived process the same fit took ~5 s: the rest is numba
  compilation that its disk cache does not cover, which a warm-up fit in a background thread at app start
  would hide;
- the cold start: numba compiles UMAP's kernels once per machine (the empty-cache row minus the warm row,
  ~{cold['project_s'] - warm['project_s']:.0f} s); core.maps already caches them on disk, so a tiny fit at install time
  (`make install`) would leave a merchandiser's first fit at the warm figure;
- re-opening: `_points` alone takes {recipe['points_s']:.2f} s of it, a `DataFrame.loc` lookup per SKU; a merge
  of the coordinates with the items frame does the same at once;
- placing: `transform` compiles its own kernels on its first call in a process
  ({recipe['recipe_transform_first_s']:.2f} s, then {recipe['recipe_transform_again_s']:.2f} s); warming it when the map
  page opens (a transform of one stored vector) keeps the user's placement well under 1 s.
"""
    print(text)
    if args.write:
        write_section(SECTION, "P5 - maps (UMAP of 10k items)", text, "python bench/maps.py --write")


if __name__ == "__main__":
    main()
