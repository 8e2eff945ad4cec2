"""A catalogue big enough for the evaluation floors: grouped items, full and partial representations, loyal shoppers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.catalog.ingest import ingest
from core.catalog.interactions import Interactions, from_frame
from core.catalog.store import now_iso
from core.lab import Lab
from core.nets.encoders import text_sha
from core.represent.representations import build_title, visual_inputs
from core.runs.prompt import run_prompt
from tests.fakes import write_catalog

GROUPS = ("shirts", "bags", "vases", "shoes")


def skus_of(per_group: int = 15) -> list[str]:
    return [f"{g[:3].upper()}{i:02d}" for g in GROUPS for i in range(per_group)]


def add_items(lab: Lab, per_group: int = 15) -> list[str]:
    """Items without images (the evaluation needs only SKUs, categories and vectors)."""
    skus = skus_of(per_group)
    lab.store.upsert_items([{"sku": s, "title": s, "category": GROUPS[n // per_group], "image_sha256": f"sha{s}",
                             "image_ext": "png", "extra": "{}", "added_at": now_iso()} for n, s in enumerate(skus)])
    return skus


def add_vectors(lab: Lab, name: str, skus: list[str], vectors: np.ndarray, kind: str = "description") -> None:
    """Vectors stored as fresh: a `visual` one records the text sha of its item's current image path."""
    table = lab.store.register_representation(name, kind, vectors.shape[1])
    texts = [""] * len(skus)
    if kind == "visual":
        current = visual_inputs(lab, lab.store.items())
        texts = [text_sha(current[s][1]) for s in skus]
    lab.store.upsert_vectors(table, vectors.shape[1], skus, [f"sha{s}" for s in skus], texts, vectors)


def loyal_log(skus: list[str], per_group: int, shoppers: int, per_shopper: int = 5, seed: int = 0) -> Interactions:
    """Each shopper buys `per_shopper` distinct items of one group, in time order."""
    rng = np.random.default_rng([seed, 99])
    rows = []
    for u in range(shoppers):
        group = u % len(GROUPS)
        for t, item in enumerate(rng.choice(per_group, size=per_shopper, replace=False)):
            rows.append((f"U{u:03d}", skus[group * per_group + item], 1000 * u + t))
    return from_frame(pd.DataFrame(rows, columns=["shopper_id", "sku", "timestamp"]), "loyal log")


def grouped_catalogue(lab: Lab, *, per_group: int = 15, shoppers: int = 60, partial: dict[str, int] | None = None,
                      seed: int = 0) -> Interactions:
    """`good` and `visual` cover the catalogue and cluster by group, `bad` covers it with noise, and each
    `partial` name has vectors for only its first N SKUs (like a 12-item A/B sample run)."""
    rng = np.random.default_rng(seed)
    skus = add_items(lab, per_group)
    n = len(skus)
    centres = rng.normal(size=(len(GROUPS), 16))
    group = np.arange(n) // per_group
    add_vectors(lab, "good", skus, centres[group] + 0.3 * rng.normal(size=(n, 16)))
    add_vectors(lab, "visual", skus, centres[group] + 0.8 * rng.normal(size=(n, 16)), kind="visual")
    add_vectors(lab, "bad", skus, rng.normal(size=(n, 16)))
    for name, size in (partial or {}).items():
        add_vectors(lab, name, skus[:size], centres[group[:size]] + 0.3 * rng.normal(size=(size, 16)))
    return loyal_log(skus, per_group, shoppers, seed=seed)


COLOURS = {"shirts": "red", "bags": "black", "vases": "blue", "shoes": "green"}


def ingested_catalogue(lab: Lab, folder: Path, *, per_group: int = 15, shoppers: int = 60,
                       sample: int = 12) -> str:
    """Real images ingested, the active prompt described in full by the fake provider, `title` vectors, the
    `appearance` prompt described for only `sample` items (an A/B sample run), and interactions.csv of loyal
    shoppers. Returns the log as CSV text."""
    skus = skus_of(per_group)
    items = [{"sku": s, "title": f"{COLOURS[GROUPS[n // per_group]]} {GROUPS[n // per_group][:-1]} {n % per_group}",
              "category": GROUPS[n // per_group], "colour": COLOURS[GROUPS[n // per_group]]}
             for n, s in enumerate(skus)]
    report = ingest(lab.store, lab.images, [folder], write_catalog(folder, items))
    assert report.accepted == len(items), report.as_rows()
    lab.store.set_setting("active_provider", "fake")
    run_prompt(lab, lab.active_prompt(), "fake")
    run_prompt(lab, lab.prompts.get("appearance"), "fake", skus=skus[:sample])
    build_title(lab)
    log = loyal_log(skus, per_group, shoppers).frame
    text = log[["shopper_id", "sku", "timestamp"]].to_csv(index=False)
    lab.workspace.interactions_csv.write_text(text)
    return text
