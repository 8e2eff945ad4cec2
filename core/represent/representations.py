"""Named sets of item vectors side by side: one per description run, plus `title` and `visual`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from core.describe.prompts import PromptVersion
from core.describe.revisions import human_revisions
from core.lab import Lab
from core.nets.encoders import text_sha

TITLE = "title"
VISUAL = "visual"


def run_name(prompt: PromptVersion, provider: str, model: str) -> str:
    return f"{prompt.ref}/{provider}/{model}"


def title_text(item: dict) -> str:
    return f"{item['title']}. Category: {item['category']}."


def _sync(lab: Lab, name: str, kind: str, dim: int, inputs: dict[str, tuple[str, str]],
          encode: Callable[[list[str]], np.ndarray], **meta: str) -> str:
    """Embed only SKUs whose input changed since the last sync; one batched write."""
    table = lab.store.register_representation(name, kind, dim, **meta)
    stored = lab.store.vector_text_shas(table)
    changed = [(sku, sha, text) for sku, (sha, text) in inputs.items() if stored.get(sku) != text_sha(text)]
    if changed:
        vectors = encode([text for _, _, text in changed])
        lab.store.upsert_vectors(table, dim, [c[0] for c in changed], [c[1] for c in changed],
                                 [text_sha(c[2]) for c in changed], vectors)
    return name


def embed_description_run(lab: Lab, prompt: PromptVersion, provider: str, model: str) -> str:
    """Vectors for every item whose image has a successful description (a human revision wins)."""
    descs = lab.store.descriptions(prompt_hash=prompt.hash, provider=provider, model=model)
    descs = descs[descs["error"] == ""]
    descs = descs.assign(text=descs["key"].map(human_revisions(lab.store)).fillna(descs["text"]))
    text_by_sha = dict(zip(descs["image_sha256"], descs["text"], strict=True))
    items = lab.store.items()
    inputs = {r["sku"]: (r["image_sha256"], text_by_sha[r["image_sha256"]])
              for r in items.to_dict("records") if r["image_sha256"] in text_by_sha}
    return _sync(lab, run_name(prompt, provider, model), "description", lab.encoder.dim, inputs,
                 lab.encoder.encode, prompt_ref=prompt.ref, prompt_hash=prompt.hash, provider=provider,
                 model=model, encoder=lab.encoder.name)


def build_title(lab: Lab) -> str:
    """The text-only baseline: title + category, no image at all."""
    items = lab.store.items()
    inputs = {r["sku"]: (r["image_sha256"], title_text(r)) for r in items.to_dict("records")}
    return _sync(lab, TITLE, "title", lab.encoder.dim, inputs, lab.encoder.encode, encoder=lab.encoder.name)


def build_visual(lab: Lab) -> str:
    """The paper's raw-visual-features baseline: pooled EfficientNet-Lite0 features (1280-d)."""
    from core.nets.vision import default_vision_model

    vision = default_vision_model()
    items = lab.store.items()
    paths = {r["sku"]: (r["image_sha256"], str(lab.images.path(r["image_sha256"], r["image_ext"])))
             for r in items.to_dict("records")}

    def encode(image_paths: list[str]) -> np.ndarray:
        keys = [Path(p).stem for p in image_paths]  # stored images are named by their sha256
        return vision.analyse_keyed(keys, [Path(p) for p in image_paths]).features

    return _sync(lab, VISUAL, "visual", vision.feature_dim, paths, encode, encoder="efficientnet-lite0-pooled")


def list_representations(lab: Lab) -> pd.DataFrame:
    """Registry rows plus live vector counts."""
    reps = lab.store.representations()
    reps["count"] = [t.count_rows() if (t := lab.store.vector_table(tbl)) is not None else 0 for tbl in reps["table"]]
    return reps
