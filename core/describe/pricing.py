"""Token prices from core/data/prices.yaml, so price changes are data edits, not code edits."""

from __future__ import annotations

from functools import cache

import yaml

from core.config import DATA_DIR
from core.describe.endpoints import Where

PRICES_FILE = DATA_DIR / "prices.yaml"
FREE = "free (runs locally)"
LOCAL_SERVER = "local server — no price"


@cache
def _table() -> dict:
    return yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8"))


def is_priced(provider: str, model: str) -> bool:
    return model in _table().get(provider, {}).get("models", {})


def unpriced(provider: str, model: str) -> str:
    return f"unknown price: {provider}/{model} is not in prices.yaml"


def no_price(provider: str, model: str, where: Where) -> str:
    """Why a run through an API has no dollar figure ('' when it has one, or runs on this machine): a model without
    a price never borrows another's, and a local server's model is not free, it is unpriced."""
    if where == "local server":
        return LOCAL_SERVER
    if where == "on this machine" or is_priced(provider, model):
        return ""
    return unpriced(provider, model)


def cost_usd(provider: str, model: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float:
    """Estimated cost of one call; 0.0 for unpriced (e.g. local) models."""
    entry = _table().get(provider, {})
    price = entry.get("models", {}).get(model)
    if price is None:
        return 0.0
    factor = entry.get("batch_discount", 1.0) if batch else 1.0
    return factor * (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000
