"""Named sets of item vectors side by side: one per description run, plus `title`, `visual` and `metadata`.

`metadata` is the catalogue's own attribute data as text ("style: classic; material: leather; ..."), embedded like a
description: the baseline that asks whether an LVLM adds anything over what the merchandiser already holds. Its
columns are the extra CSV columns that hold descriptive text: identifiers, links and file names (sku, *_id, ean,
gtin, url, image, ...) and numeric columns (price, weight, stock: every value a number) are left out, and so are
the core title and category (the `title` baseline's inputs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from core.catalog.store import ITEM_SCHEMA
from core.describe.identity import run_descriptions
from core.describe.prompts import PromptVersion
from core.describe.revisions import human_revisions
from core.engines.base import Engine, Model, VectorRows, text_model, visual_model
from core.engines.local import LOCAL
from core.errors import VitrineError
from core.lab import Lab
from core.nets.encoders import text_sha

TITLE = "title"
VISUAL = "visual"
METADATA = "metadata"
_IDENTIFIER = re.compile(r"(^|[\s_-])(id|sku|ean|upc|gtin|mpn|isbn|asin|barcode|code|ref|url|link|image|img|photo|file"
                         r"|path)s?$", re.I)


def run_name(prompt: PromptVersion, provider: str, model: str) -> str:
    return f"{prompt.ref}/{provider}/{model}"


def title_text(item: dict) -> str:
    return f"{item['title']}. Category: {item['category']}."


def _sync(lab: Lab, name: str, kind: str, dim: int, inputs: dict[str, tuple[str, str]], net: Model,
          engine: Engine, **meta: str) -> str:
    """Embed only SKUs whose input changed since the last sync, on the engine; one batched write."""
    table = lab.store.register_representation(name, kind, dim, **meta)
    stored = lab.store.vector_text_shas(table)
    changed = [(sku, sha, text) for sku, (sha, text) in inputs.items() if stored.get(sku) != text_sha(text)]
    if changed:
        rows = VectorRows(table, dim, [c[0] for c in changed], [c[1] for c in changed],
                          [text_sha(c[2]) for c in changed], [c[2] for c in changed],
                          fresh=not any(c[0] in stored for c in changed))
        engine.write_vectors(lab.store, rows, net)
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


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _text(value: object) -> str:
    """A cell as stripped text; None and NaN (an item without that column) read as ''."""
    return "" if value is None or value != value else str(value).strip()


def metadata_columns(items: pd.DataFrame) -> list[str]:
    """The catalogue's descriptive attribute columns, in catalogue order (the rule is in the module docstring)."""
    extra = [c for c in items.columns if c not in ITEM_SCHEMA.names and not _IDENTIFIER.search(str(c))]
    values = {c: [t for v in items[c] if (t := _text(v))] for c in extra}
    return [c for c in extra if values[c] and not all(map(_is_number, values[c]))]


def metadata_text(item: Mapping[str, object], columns: list[str]) -> str:
    """'style: classic; material: leather; ...': the item's non-empty values of the columns, in their order."""
    parts = [(c.replace("_", " "), _text(item.get(c))) for c in columns]
    return "; ".join(f"{c}: {v}" for c, v in parts if v)


def metadata_inputs(items: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """sku -> (image sha, attribute text) for items with at least one attribute value."""
    columns = metadata_columns(items)
    texts = ((r["sku"], r["image_sha256"], metadata_text(r, columns)) for r in items.to_dict("records"))
    return {sku: (sha, text) for sku, sha, text in texts if text}


def visual_inputs(lab: Lab, items: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """sku -> (image sha, stored image path): the visual baseline's input is the image file itself."""
    return {r["sku"]: (r["image_sha256"], str(lab.images.path(r["image_sha256"], r["image_ext"])))
            for r in items.to_dict("records")}


def embed_description_run(lab: Lab, prompt: PromptVersion, provider: str, model: str,
                          engine: Engine = LOCAL) -> str:
    """Vectors for every item with a successful description of its current inputs (a human revision wins)."""
    inputs = description_inputs(lab, lab.store.items(), prompt, provider, model)
    return _sync(lab, run_name(prompt, provider, model), "description", lab.encoder.dim, inputs,
                 text_model(lab.encoder), engine, prompt_ref=prompt.ref, prompt_hash=prompt.hash, provider=provider,
                 model=model, encoder=lab.encoder.name)


def build_title(lab: Lab, engine: Engine = LOCAL) -> str:
    """The text-only baseline: title + category, no image at all."""
    return _sync(lab, TITLE, "title", lab.encoder.dim, title_inputs(lab.store.items()), text_model(lab.encoder),
                 engine, encoder=lab.encoder.name)


def build_metadata(lab: Lab, engine: Engine = LOCAL) -> str:
    """The catalogue's own attributes embedded like a description: does an LVLM add anything over them?"""
    items = lab.store.items()
    if not metadata_columns(items):
        raise VitrineError("the catalogue has no attribute columns (e.g. material, style, occasion) to build the "
                           "metadata representation from: add them to the metadata CSV")
    return _sync(lab, METADATA, "metadata", lab.encoder.dim, metadata_inputs(items), text_model(lab.encoder),
                 engine, encoder=lab.encoder.name)


def build_visual(lab: Lab, engine: Engine = LOCAL) -> str:
    """The paper's raw-visual-features baseline: pooled EfficientNet-Lite0 features (1280-d)."""
    from core.nets.vision import FEATURE_DIM

    return _sync(lab, VISUAL, "visual", FEATURE_DIM, visual_inputs(lab, lab.store.items()), visual_model(), engine,
                 encoder="efficientnet-lite0-pooled")
