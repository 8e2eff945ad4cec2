"""P1: profile top-10 over N normalised 384-d vectors: Vitrine's recommend path vs exact numpy vs LanceDB flat.

Usage: python bench/retrieval.py [--write] [--sizes 10000,100000,1000000] [--queries 200] [--kinds ivf_pq,ivf_hnsw_sq]

The data is synthetic and seeded: N // 500 "product types" (cluster centres) with every item its centre plus
isotropic noise (cosine ~0.6 within a type, ~0 across), which is harder for an ANN index than real embeddings
(the in-type neighbours are nearly equidistant). A shopper's history is 1-5 items of one type.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from common import interleaved, ms, p50, p99, table, timed, write_section

from core.catalog import ann
from core.catalog.store import ITEM_SCHEMA, vector_schema
from core.lab import Lab, open_lab
from core.nets.encoders import HashEncoder
from core.represent.recommend import load_matrix, recommend

DIM = 384
K = 10
REP = "bench"
SECTION = "perf-P1"
ANN_COLUMNS = ["kind", "settings", "build (2 cores)", "p50", "p99", "recall@10"]


def clustered(n: int, seed: int = 0, data: str = "minilm") -> tuple[np.ndarray, np.ndarray]:
    """(vectors, cluster of each row), generated in blocks to keep peak memory near the result's size.

    "minilm": a Gaussian mixture with the statistics of real all-MiniLM-L6-v2 description embeddings (a shared
    mean direction of norm 0.61, so unrelated items have cosine ~0.37; variance spread over a decaying spectrum,
    ~90% in the top 50 of 384 directions, where real ones hold ~81%); each type's items spread around it with a
    quarter of the variance.
    "isotropic": centre + isotropic noise (within-type neighbours nearly equidistant: a stress test for ANN).
    """
    rng = np.random.default_rng(seed)
    types = max(1, n // 500)
    labels = rng.integers(0, types, n)
    out = np.empty((n, DIM), np.float32)
    if data == "isotropic":
        centres = rng.standard_normal((types, DIM), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        noise = np.full(DIM, np.float32(0.8 / np.sqrt(DIM)))
        basis = np.eye(DIM, dtype=np.float32)
    else:
        i = np.arange(DIM)
        spectrum = (i + 1.0) ** -0.5 * np.exp(-i / 80)
        spectrum *= 0.63 / spectrum.sum()
        basis = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
        mean = rng.standard_normal(DIM).astype(np.float32)
        mean *= np.float32(0.61) / np.linalg.norm(mean)
        centres = mean + (rng.standard_normal((types, DIM)) * np.sqrt(0.75 * spectrum)).astype(np.float32) @ basis.T
        noise = np.sqrt(0.25 * spectrum).astype(np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = (rng.standard_normal((stop - start, DIM), dtype=np.float32) * noise) @ basis.T
        block += centres[labels[start:stop]]
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, labels


def shoppers(labels: np.ndarray, count: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    by_cluster: dict[int, np.ndarray] = {}
    out = []
    while len(out) < count:
        c = int(rng.integers(0, labels.max() + 1))
        members = by_cluster.setdefault(c, np.flatnonzero(labels == c))
        if len(members) >= 6:
            out.append(rng.choice(members, size=int(rng.integers(1, 6)), replace=False))
    return out


def build_workspace(root: Path, vectors: np.ndarray) -> tuple[Lab, list[str]]:
    """Items and one representation written straight to LanceDB (one batch each: setup, not the subject)."""
    lab = open_lab(root, encoder=HashEncoder())
    n = len(vectors)
    skus = [f"S{i:07d}" for i in range(n)]
    shas = [f"{i:064x}" for i in range(n)]
    lab.store.db.create_table("items", pa.Table.from_arrays([
        pa.array(skus), pa.array([f"Item {i}" for i in range(n)]), pa.array(["apparel"] * n), pa.array(shas),
        pa.array(["png"] * n), pa.array(["{}"] * n), pa.array(["2026-01-01T00:00:00+00:00"] * n)],
        schema=ITEM_SCHEMA))
    table = lab.store.register_representation(REP, "description", DIM, encoder="synthetic")
    lab.store.db.create_table(table, pa.Table.from_arrays([
        pa.array(skus), pa.array(shas), pa.array(["x"] * n),
        pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM)], schema=vector_schema(DIM)))
    return lab, skus


def exact_top(vectors: np.ndarray, q: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """The reference: one mat-vec plus argpartition (the memory-bandwidth bound)."""
    scores = vectors @ q
    if exclude is not None:
        scores[exclude] = -np.inf
    idx = np.argpartition(-scores, K)[:K]
    return idx[np.argsort(-scores[idx])]


def run_size(n: int, queries: int, kinds: list[str], workdir: Path, data: str) -> tuple[list[dict], list[dict]]:
    """Rows for the main table and, above the ANN threshold, one row per index kind."""
    vectors, labels = clustered(n, data=data)
    histories = shoppers(labels, queries)
    lab, skus = build_workspace(workdir / f"ws{n}", vectors)
    hist_skus = [[skus[i] for i in h] for h in histories]
    profiles = [(vectors[h].sum(axis=0) / np.linalg.norm(vectors[h].sum(axis=0))).astype(np.float32)
                for h in histories]
    truth = [set(exact_top(vectors, q, h).tolist()) for q, h in zip(profiles, histories, strict=True)]
    name = lab.store.representation(REP)["table"]
    lance_flat = lab.store.vector_table(name)
    default = ann.DEFAULT
    ann.DEFAULT = ann.PRESETS[kinds[0]]

    cold, _ = timed(lambda: recommend(lab, hist_skus[0], K, REP, explain=False))  # reads + caches the matrix
    rows = [{"N": f"{n:,}", "path": "Vitrine, first call (reads the matrix; starts the index build above "
             "the threshold)", "p50": ms(cold)}]
    ann_rows = []

    def measure(kind: str | None) -> float:
        m = load_matrix(lab, REP)
        got: list[list[str]] = []

        def vitrine(r: int) -> None:
            got.append([rec.sku for rec in recommend(lab, hist_skus[r], K, REP, explain=False)])

        paths = {
            "numpy exact": lambda r: exact_top(m.vectors, profiles[r]),
            "Vitrine recommend()": vitrine,
            "LanceDB flat": lambda r: lance_flat.search(profiles[r]).distance_type("dot").limit(K)
            .select(["sku", "_distance"]).bypass_vector_index().to_arrow(),
        }
        seconds = interleaved(paths, queries, caps={"LanceDB flat": 20 if n >= 1_000_000 else queries})
        recall = float(np.mean([len({m.index[s] for s in g} & t) / K for g, t in zip(got, truth, strict=True)]))
        base = p50(seconds["numpy exact"])
        for path, values in seconds.items():
            vit = path.startswith("Vitrine")
            rows.append({"N": f"{n:,}", "path": path + (f" [{kind} index]" if vit and kind else ""),
                         "p50": ms(p50(values)), "p99": ms(p99(values)),
                         "p50 / numpy": f"{p50(values) / base:.2f}x", "recall@10": f"{recall:.3f}" if vit else "1.000"})
        return recall

    try:
        if n < ann.ANN_MIN_ROWS:
            measure(None)
            return rows, ann_rows
        ann.BUILDS.wait(lab.store.uri, name)
        for kind in kinds:
            ann.DEFAULT = ann.PRESETS[kind]
            build = ann.BUILDS.seconds(lab.store.uri, name) if kind == kinds[0] else \
                ann.build_index(lab.store.vector_table(name))
            if ann.vector_index(lab.store.vector_table(name)) is None:
                raise RuntimeError(f"no {kind} index was built on {name}")
            recall = measure(kind)
            vit = rows[-2]
            ann_rows.append({"kind": kind, "settings": settings(ann.PRESETS[kind]), "build (2 cores)": f"{build:.0f} s",
                             "p50": vit["p50"], "p99": vit["p99"], "recall@10": f"{recall:.3f}"})
        return rows, ann_rows
    finally:
        ann.DEFAULT = default
        shutil.rmtree(workdir / f"ws{n}", ignore_errors=True)


def settings(c: ann.AnnConfig) -> str:
    build = (f"PQ {c.num_sub_vectors}x{c.num_bits}-bit" if c.kind == "ivf_pq"
             else f"HNSW m={c.hnsw_m} ef_construction={c.hnsw_ef_construction}")
    query = f"nprobes={c.nprobes}, {c.candidates}x candidates re-ranked exactly" + (
        f", ef={c.ef}" if c.kind == "ivf_hnsw_sq" else "")
    return (f"rows/{c.rows_per_partition} partitions, {build}, k-means {c.max_iterations} it. "
            f"@ sample rate {c.sample_rate}; {query}")


def report(rows: list[dict], ann_rows: list[dict], sizes: list[int], data: str) -> str:
    at_100k = next((r for r in rows if r["N"] == "100,000" and r["path"] == "Vitrine recommend()"), None)
    at_1m = ann_rows[0] if ann_rows else None
    verdict = []
    if at_100k:
        ratio = float(at_100k["p50 / numpy"].rstrip("x"))
        verdict.append(f"- Vitrine within 2x of exact numpy at 100k: **{'met' if ratio <= 2 else 'missed'}** "
                       f"({at_100k['p50 / numpy']}).")
    if at_1m:
        p = float(at_1m["p50"].split()[0])
        r = float(at_1m["recall@10"])
        verdict.append(f"- 1M from the {at_1m['kind']} index, p50 <= 10 ms with recall@10 >= 0.95: "
                       f"**{'met' if p <= 10 and r >= 0.95 else 'missed'}** (p50 {at_1m['p50']}, recall {r:.3f}).")
    return f"""Top-10 for a shopper profile (mean of 1-5 history items, history excluded) over N synthetic, seeded,
normalised 384-d vectors in N/500 "product types" (data: `{data}`, see `clustered()` in bench/retrieval.py:
a Gaussian mixture with the mean direction, pairwise cosine and decaying spectrum of real all-MiniLM-L6-v2
description embeddings). The three paths answer the same queries, interleaved query by query so load spikes
hit all alike; ratios are against exact numpy in the same run.

- **numpy exact**: `matrix @ q` + `argpartition` on the in-memory float32 matrix (the memory-bandwidth bound).
- **Vitrine recommend()**: `core.represent.recommend.recommend(lab, history, 10, rep, explain=False)`, the served path:
  cached matrix (reloaded only when the table's LanceDB version changes), profile, history exclusion, titles.
  Below `ANN_MIN_ROWS` = {ann.ANN_MIN_ROWS:,} it ranks exactly; above it, it serves from the LanceDB index that
  `load_matrix` builds in the background: it fetches (k + len(history)) x candidates row ids by compressed
  distance and re-scores them exactly from the in-memory matrix (history excluded, then the best k).
- **LanceDB flat**: `table.search(q).distance_type("dot").bypass_vector_index().limit(10)` (20 queries at 1M:
  each takes seconds).

{table(rows, ["N", "path", "p50", "p99", "p50 / numpy", "recall@10"])}

Index kinds at {max(sizes):,} (Vitrine recommend() served from each; the first row's build is the automatic
background build, recall@10 is against exact top-10 with the history excluded):

{table(ann_rows, ANN_COLUMNS) if ann_rows else "(none above the threshold)"}

{chr(10).join(verdict)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the P1 section of BENCHMARKS.md")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="ivf_pq", help=f"index kinds to compare above the threshold: {ann.KINDS}")
    parser.add_argument("--data", default="minilm", choices=["minilm", "isotropic"])
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    rows: list[dict] = []
    ann_rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="vitrine-p1-") as tmp:
        for n in sizes:
            print(f"N={n:,} ...", flush=True)
            r, a = run_size(n, args.queries if n < 1_000_000 else args.queries // 2, kinds, Path(tmp), args.data)
            print(table(r + a, list({k: 0 for row in r + a for k in row})), flush=True)
            rows += r
            ann_rows += a
    text = report(rows, ann_rows, sizes, args.data)
    print(text)
    if args.write:
        write_section(SECTION, "P1 - retrieval: profile top-10", text,
                      f"python bench/retrieval.py --write --kinds {args.kinds} --data {args.data}")


if __name__ == "__main__":
    main()
