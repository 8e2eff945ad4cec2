"""Blind A/B votes per reviewer: per-item left/right order, the `votes` table, B's win rate with a Wilson interval,
and whether the reviewers agree (Cohen's kappa for two, Fleiss' for more)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from core.access.actor import current
from core.access.audit import Action, record
from core.access.roles import require
from core.catalog.store import now_iso, sql_str
from core.errors import VitrineError
from core.lab import Lab

VOTES_TABLE = "votes"
VOTE_SCHEMA = pa.schema([
    ("vote_id", pa.string()), ("ab_id", pa.string()),
    ("run_a", pa.string()), ("run_b", pa.string()),  # the run identities ab_id hashes, kept readable
    ("sku", pa.string()), ("winner", pa.string()), ("left", pa.string()), ("created_at", pa.string()),
    ("reviewer", pa.string()),  # added later: votes cast before it read '' (one anonymous reviewer)
])
CHOICES = ("left", "right", "tie")
Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def ab_id(run_a: str, run_b: str) -> str:
    """Identity of one comparison: order matters, since votes count B's wins over A."""
    return hashlib.sha256(json.dumps([run_a, run_b]).encode()).hexdigest()[:16]


def left_side(seed: int, comparison: str, sku: str) -> str:
    """Which side ('a' or 'b') a blind voter sees on the left: random-looking, yet stable across reruns."""
    digest = hashlib.sha256(f"{seed}|{comparison}|{sku}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def record_vote(lab: Lab, run_a: str, run_b: str, sku: str, choice: str, left: str) -> dict:
    """Store the current reviewer's vote; voting again on the same item of the same comparison replaces their own
    earlier vote, never another reviewer's."""
    reviewer = require(lab.store, Action.VOTE).name
    if choice not in CHOICES:
        raise VitrineError(f"unknown vote {choice!r}; use one of: {', '.join(CHOICES)}")
    if left not in ("a", "b"):
        raise VitrineError(f"left side must be 'a' or 'b', not {left!r}")
    right = "b" if left == "a" else "a"
    comparison = ab_id(run_a, run_b)
    row = {
        "vote_id": hashlib.sha256(f"{comparison}|{sku}|{reviewer}".encode()).hexdigest()[:24], "ab_id": comparison,
        "run_a": run_a, "run_b": run_b, "sku": sku,
        "winner": {"left": left, "right": right, "tie": "tie"}[choice], "left": left, "created_at": now_iso(),
        "reviewer": reviewer,
    }
    lab.store.upsert_rows(VOTES_TABLE, VOTE_SCHEMA, [row], "vote_id")
    record(lab.store, Action.VOTE, skus=[sku], detail=f"voted {row['winner']} in {run_a} vs {run_b}")
    return row


def votes(lab: Lab, comparison: str) -> pd.DataFrame:
    return lab.store.frame(VOTES_TABLE, VOTE_SCHEMA, f"ab_id = {sql_str(comparison)}")


def vote_choices(lab: Lab, comparison: str) -> dict[str, str]:
    """SKU -> the button the current reviewer clicked ('left' | 'right' | 'tie'): their own earlier votes only, so
    nobody sees how the others voted (blind)."""
    mine = votes(lab, comparison)
    mine = mine[mine["reviewer"] == current().name]
    return {r.sku: "tie" if r.winner == "tie" else ("left" if r.winner == r.left else "right")
            for r in mine.itertuples()}


@dataclass(frozen=True)
class WinRate:
    """B's share of decisive (non-tie) votes with a 95% Wilson score interval; None without decisive votes."""

    n: int
    wins_a: int
    wins_b: int
    ties: int
    rate_b: float | None
    ci_low: float | None
    ci_high: float | None


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval: unlike the normal approximation it stays inside [0, 1] for small n."""
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def win_rate(winners: Iterable[str]) -> WinRate:
    """Tally winners ('a' | 'b' | 'tie'), e.g. the `winner` column of votes(...)."""
    winners = list(winners)
    unknown = sorted(set(winners) - {"a", "b", "tie"})
    if unknown:
        raise VitrineError(f"unknown vote winner(s) {unknown}; expected 'a', 'b' or 'tie'")
    wins_a, wins_b, ties = winners.count("a"), winners.count("b"), winners.count("tie")
    decisive = wins_a + wins_b
    if not decisive:
        return WinRate(len(winners), wins_a, wins_b, ties, None, None, None)
    low, high = wilson_interval(wins_b, decisive)
    return WinRate(len(winners), wins_a, wins_b, ties, wins_b / decisive, low, high)
