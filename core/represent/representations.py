"""Named sets of item vectors side by side: one per description run, plus `title` and `visual`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from core.describe.identity import run_descriptions
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


def description_inputs(lab: Lab, items: pd.DataFrame, prompt: PromptVersion, provider: str,
                       model: str) -> dict[str, tuple[str, str]]:
    """sku -> (image sha, text) for items with a successful description of their current inputs (a human
    revision wins): what the run's vectors should embed."""
    current = run_descriptions(lab.store, items, prompt, provider, model)
    current = current[current["error"] == ""]
    text = current["key"].map(human_revisions(lab.store)).fillna(current["text"])
    return dict(zip(current["sku"], zip(current["image_sha256"], text, strict=True), strict=True))


def title_inputs(items: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {r["sku"]: (r["image_sha256"], title_text(r)) for r in items.to_dict("records")}


def visual_inputs(lab: Lab, items: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """sku -> (image sha, stored image path): the visual baseline's input is the image file itself."""
    return {r["sku"]: (r["image_sha256"], str(lab.images.path(r["image_sha256"], r["image_ext"])))
            for r in items.to_dict("records")}


def embed_description_run(lab: Lab, prompt: PromptVersion, provider: str, model: str) -> str:
    """Vectors for every item with a successful description of its current inputs (a human revision wins)."""
    inputs = description_inputs(lab, lab.store.items(), prompt, provider, model)
    return _sync(lab, run_name(prompt, provider, model), "description", lab.encoder.dim, inputs,
                 lab.encoder.encode, prompt_ref=prompt.ref, prompt_hash=prompt.hash, provider=provider,
                 model=model, encoder=lab.encoder.name)


def build_title(lab: Lab) -> str:
    """The text-only baseline: title + category, no image at all."""
    return _sync(lab, TITLE, "title", lab.encoder.dim, title_inputs(lab.store.items()), lab.encoder.encode,
                 encoder=lab.encoder.name)


def build_visual(lab: Lab) -> str:
    """The paper's raw-visual-features baseline: pooled EfficientNet-Lite0 features (1280-d)."""
    from core.nets.vision import default_vision_model

    vision = default_vision_model()

    def encode(image_paths: list[str]) -> np.ndarray:
        keys = [Path(p).stem for p in image_paths]  # stored images are named by their sha256
        return vision.analyse_keyed(keys, [Path(p) for p in image_paths]).features

    return _sync(lab, VISUAL, "visual", vision.feature_dim, visual_inputs(lab, lab.store.items()), encode,
                 encoder="efficientnet-lite0-pooled")
