"""What a map view shows besides positions: one legend entry per attribute value, the items a search matches, and
an evenly spread sample of items for thumbnails (level of detail, so 100k points never mean 100k images)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.catalog.store import ITEM_SCHEMA
from core.lab import Lab
from core.represent.palette import NONE, OTHER, colours

MAX_LEVELS = 12  # legend entries before the rarest values are merged into OTHER


@dataclass(frozen=True)
class Legend:
    """The values a column is coloured by, most frequent first (NONE and OTHER last), and each one's colour."""

    column: str
    values: list[str]
    colours: dict[str, str]


def legend(frames: list[pd.DataFrame], column: str) -> Legend:
    """One legend for maps drawn together: values counted over all of them, so each keeps one entry and colour."""
    counts = pd.concat([exploded(f, column) for f in frames]).value_counts()
    kept = [v for v in counts.index if v not in (NONE, OTHER)]
    if len(counts) > MAX_LEVELS:
        kept = kept[:MAX_LEVELS - 1]
    rest = [v for v in (NONE, OTHER) if v in counts.index or (v == OTHER and len(counts) > MAX_LEVELS)]
    values = [*kept, *rest]
    return Legend(column, values, colours(values))


def exploded(points: pd.DataFrame, column: str) -> pd.Series:
    """A column's individual values, one row per (item, value), indexed like `points`: an item with two
    materials counts for both; an item with none counts once as NONE."""
    values = points[column]
    if len(values) and isinstance(values.iloc[0], tuple | list):  # a multi-valued column (facets, prompt versions)
        values = values.map(lambda v: v or (NONE,)).explode()
    return values.astype(str)


def groups(points: pd.DataFrame, legend: Legend) -> pd.Series:
    """The legend value each (item, value) row is drawn under, indexed like `points` (values off the legend are
    OTHER)."""
    values = exploded(points, legend.column)
    return values.where(values.isin(legend.values), OTHER)


def matches(lab: Lab, points: pd.DataFrame, query: str) -> np.ndarray:
    """Which items match a search: every word of it appears (any case) in the SKU, the title or the active
    description run's text of the item. An empty query matches nothing."""
    words = query.casefold().split()
    if not words:
        return np.zeros(len(points), bool)
    texts = _description_texts(lab)
    haystack = (points["sku"].astype(str) + "\n" + points["title"].astype(str) + "\n"
                + points["sku"].map(texts).fillna("")).str.casefold()
    found = np.ones(len(points), bool)
    for word in words:
        found &= haystack.str.contains(word, regex=False).to_numpy()
    return found


def spread(xy: np.ndarray, n: int) -> np.ndarray:
    """Up to n row indices spread over the map (level of detail for thumbnails): the first item of each occupied
    cell of a grid made finer until about n cells are occupied, so a dense cluster gets a few, not hundreds."""
    if len(xy) <= n:
        return np.arange(len(xy))
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0) + 1e-9
    side = max(1, int(np.sqrt(n)))
    while True:
        cells = np.floor((xy - lo) / span * side).astype(np.int64)
        _, first = np.unique(cells[:, 0] * (side + 1) + cells[:, 1], return_index=True)
        if len(first) >= n or side >= 1 << 16:  # the second: fewer than n distinct positions
            break
        side *= 2
    return np.sort(first if len(first) <= n else first[np.linspace(0, len(first) - 1, n).astype(int)])


def _description_texts(lab: Lab) -> dict[str, str]:
    """SKU -> the text of its description in the active run (what the merchandiser reads on the QA page)."""
    prompt = lab.active_prompt()
    provider, model = lab.active_provider()
    descs = lab.store.descriptions(prompt_hash=prompt.hash, provider=provider, model=model or None)
    ok = descs[descs["error"] == ""]
    by_sha = dict(zip(ok["image_sha256"], ok["text"], strict=True))
    items = lab.store.frame("items", ITEM_SCHEMA)[["sku", "image_sha256"]]
    return {sku: by_sha[sha] for sku, sha in zip(items["sku"], items["image_sha256"], strict=True) if sha in by_sha}
