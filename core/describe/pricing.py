"""Token prices from core/data/prices.yaml, so price changes are data edits, not code edits."""

from __future__ import annotations

from functools import cache

import yaml

from core.config import DATA_DIR

PRICES_FILE = DATA_DIR / "prices.yaml"


@cache
def _table() -> dict:
    return yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8"))


def is_priced(provider: str, model: str) -> bool:
    return model in _table().get(provider, {}).get("models", {})


def cost_usd(provider: str, model: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float:
    """Estimated cost of one call; 0.0 for unpriced (e.g. local) models."""
    entry = _table().get(provider, {})
    price = entry.get("models", {}).get(model)
    if price is None:
        return 0.0
    factor = entry.get("batch_discount", 1.0) if batch else 1.0
    return factor * (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000
