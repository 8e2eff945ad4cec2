"""Which description an item has under a run: the key of (image, rendered prompt inputs, prompt, provider, model)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core.catalog.store import Store
from core.describe.prompts import PromptVersion
from core.models import Description, description_key


def item_context(item: Mapping[str, object]) -> dict[str, str]:
    """The fields a prompt may render: the item's scalar metadata (extra columns expanded), NaN dropped."""
    return {k: str(v) for k, v in item.items()
            if isinstance(v, str | int | float) and k != "extra" and v == v}  # v == v drops NaN


def item_key(item: Mapping[str, object], prompt: PromptVersion, provider: str, model: str) -> str:
    """The description this item needs under the run: items sharing an image and inputs share it."""
    return description_key(str(item["image_sha256"]), prompt.hash, provider, model,
                           inputs_hash=prompt.inputs_hash(item_context(item)))


def stamped(desc: Description, prompt: PromptVersion, context: Mapping[str, str]) -> Description:
    """A describer's result carrying the inputs it was made from, so its key names them (runs stamp; describers
    need not know)."""
    return desc.model_copy(update={"inputs_hash": prompt.inputs_hash(context)})


def run_descriptions(store: Store, items: pd.DataFrame, prompt: PromptVersion, provider: str,
                     model: str) -> pd.DataFrame:
    """One row per item (sku, key, then the description's columns): its current description under the run,
    NaN where it has none yet. A description made for an older title is not the item's any more."""
    keys = pd.DataFrame({"sku": pd.Series(items["sku"].to_numpy() if len(items) else [], dtype=object),
                         "key": pd.Series([item_key(r, prompt, provider, model) for r in items.to_dict("records")],
                                          dtype=object)})
    descs = store.descriptions(prompt_hash=prompt.hash, provider=provider, model=model)
    return keys.merge(descs.drop(columns=[c for c in ("sku",) if c in descs.columns]), on="key", how="left")
