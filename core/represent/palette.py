"""One colour per attribute value, the same on every map: a value's colour comes from its own hash, not from the
order in which a plotting library happens to meet it, so side-by-side maps (and tomorrow's map) agree."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# 24 colours that stay distinguishable from one another and from the greys below (plotly's Dark24, minus greys).
PALETTE = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#B68100", "#750D86", "#EB663B", "#511CFB",
    "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1", "#620042",
    "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038", "#2CA58D",
)
NONE = "(none)"  # an item without a value for the column
OTHER = "other"  # the rarest values, merged so that a legend stays readable
FIXED = {NONE: "#C8C8C8", OTHER: "#8C8C8C"}  # neither is ever given a hue


def colours(values: Iterable[str]) -> dict[str, str]:
    """Value -> colour: each value takes its hash's palette slot, or the next free one when two values of this
    set collide (values claim slots in sorted order, so the result depends only on the set, not its order)."""
    taken: dict[int, str] = {}
    out = {}
    for value in sorted(set(values)):
        if value in FIXED:
            out[value] = FIXED[value]
            continue
        slot = _slot(value)
        for step in range(len(PALETTE)):
            if (slot + step) % len(PALETTE) not in taken:
                slot = (slot + step) % len(PALETTE)
                break
        taken.setdefault(slot, value)  # beyond 24 values colours repeat; the legend still names each one
        out[value] = PALETTE[slot]
    return out


def _slot(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.casefold().encode()).digest()[:4], "big") % len(PALETTE)
