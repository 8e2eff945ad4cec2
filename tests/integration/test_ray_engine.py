"""`vitrine sync --engine ray` stores what `--engine local` stores: a few thousand items on a single-node Ray cluster
(real MiniLM, EfficientNet and offline tagger), first sync (append path), an edit (merge path), and the ANN index
builds above a lowered threshold. Needs the `vitrine[ray]` extra; skips without it.

Sized for CI: 2,400 SKUs, every row compared, but shaped like a real catalogue so the work per distinct input is
done once: 600 products in 4 sizes (a product's sizes share its title and photo, so one description) and 16 photos
shared by the products, as colour variants do; both engines encode each distinct input once. Where the time goes
per engine: BENCHMARKS.md, "Engines: local vs Ray"."""

import json
import shutil
import time

import numpy as np
import pytest

from core.catalog import ann
from core.catalog.ingest import ingest
from core.catalog.store import ITEM_SCHEMA
from core.cli.main import main
from core.lab import open_lab
from tests.fakes import COLOURS, png_bytes

pytest.importorskip("ray")
pytest.importorskip("lance_ray")
pytestmark = pytest.mark.slow

ITEMS = 2400
SIZES = ("S", "M", "L", "XL")
SHAPES = ("square", "circle")
MATERIALS = ("leather", "linen", "wool", "cotton", "canvas")
STYLES = ("classic", "sporty", "bohemian", "minimal")
NOUNS = ("tote", "shirt", "scarf", "sneaker", "vase", "lamp", "jacket")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """One workspace: a few ingested images, each shared by many products; each product in every size."""
    root = tmp_path_factory.mktemp("ray-engine")
    folder = root / "images"
    folder.mkdir()
    rows = ["sku,title,category,image"]
    for n, (colour, shape) in enumerate((c, s) for c in COLOURS for s in SHAPES):
        (folder / f"img{n}.png").write_bytes(png_bytes(colour, size=(64 + 8 * (n % 4), 64), shape=shape))
        rows.append(f"I{n},{colour} {shape},images,img{n}.png")
    workspace = root / "catalogue"
    lab = open_lab(workspace)
    assert ingest(lab.store, lab.images, [folder], "\n".join(rows).encode()).accepted == len(rows) - 1
    images = lab.store.frame("items", ITEM_SCHEMA).to_dict("records")
    lab.store.delete_rows("items", "sku LIKE 'I%'")
    items = []
    for i in range(ITEMS):
        product, size = divmod(i, len(SIZES))
        material, style, noun = MATERIALS[product % 5], STYLES[product % 4], NOUNS[product % 7]
        items.append(images[product % len(images)] | {
            "sku": f"S{i:05d}", "title": f"{style.title()} {material} {noun} no. {product}", "category": f"{noun}s",
            "extra": json.dumps({"material": material, "style": style, "size": SIZES[size]})})
    lab.store.upsert_items(items)
    return workspace


def _stored(workspace):
    """representation -> {sku: (text_sha, vector)}, and description key -> text."""
    lab = open_lab(workspace)
    reps = {}
    for rep in lab.store.representations().to_dict("records"):
        arrow = lab.store.rows(rep["table"], columns=["sku", "text_sha", "vector"])
        vectors = np.stack(arrow["vector"].to_numpy(zero_copy_only=False))
        reps[rep["name"]] = dict(zip(arrow["sku"].to_pylist(), zip(arrow["text_sha"].to_pylist(), vectors,
                                                                    strict=True), strict=True))
    descriptions = lab.store.descriptions()
    return reps, dict(zip(descriptions["key"], descriptions["text"], strict=True))


def _assert_same(local, ray):
    local_reps, local_texts = _stored(local)
    ray_reps, ray_texts = _stored(ray)
    assert ray_texts == local_texts  # same description keys: the cache and resume logic hold across engines
    assert sorted(ray_reps) == sorted(local_reps)
    for name, rows in local_reps.items():
        assert ray_reps[name].keys() == rows.keys(), name
        skus = sorted(rows)
        if name != "visual":  # visual's input is the absolute image path, which differs between the two copies
            assert [ray_reps[name][s][0] for s in skus] == [rows[s][0] for s in skus], name
        a = np.stack([rows[s][1] for s in skus])
        b = np.stack([ray_reps[name][s][1] for s in skus])
        cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert cosine.min() >= 1 - 1e-5, (name, float(cosine.min()))


def _sync(workspace, engine, capsys):
    started = time.perf_counter()
    assert main(["sync", "--workspace", str(workspace), "--engine", engine]) == 0
    return time.perf_counter() - started, capsys.readouterr().out


def test_ray_sync_stores_what_local_sync_stores(catalogue, tmp_path, monkeypatch, capsys):
    local, ray = tmp_path / "local", tmp_path / "ray"
    shutil.copytree(catalogue, local)
    shutil.copytree(catalogue, ray)
    monkeypatch.setattr(ann, "ANN_MIN_ROWS", ITEMS)  # every representation is "large": both engines index it

    local_s, _ = _sync(local, "local", capsys)
    ray_s, out = _sync(ray, "ray", capsys)
    print(f"first sync of {ITEMS} items: local {local_s:.1f} s, ray {ray_s:.1f} s")
    assert "ANN index built" in out
    _assert_same(local, ray)
    for workspace in (local, ray):
        lab = open_lab(workspace)
        tables = lab.store.representations()["table"]
        assert all(ann.vector_index(lab.store.vector_table(t)) is not None for t in tables)

    for workspace in (local, ray):  # one retitled item: re-described and re-embedded through a merge
        lab = open_lab(workspace)
        item = lab.store.frame("items", ITEM_SCHEMA, "sku = 'S00007'").iloc[0].to_dict()
        lab.store.upsert_items([item | {"title": "Minimal wool scarf, retitled"}])
    _sync(local, "local", capsys)
    _, out = _sync(ray, "ray", capsys)
    assert "0 cached, 1 described, 0 failed" in out
    _assert_same(local, ray)
