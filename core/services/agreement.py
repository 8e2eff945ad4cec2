"""Do the A/B reviewers agree? Win rate per reviewer and overall, and Cohen's (two) or Fleiss' (more) kappa with n.

A pooled win rate from reviewers who disagree is noise with an interval around it: when kappa is low the verdict
says so in plain words instead of letting the number stand as an answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.lab import Lab
from core.services.votes import WinRate, votes, win_rate

CATEGORIES = ("a", "b", "tie")
LOW_KAPPA = 0.4  # Landis & Koch: up to 0.40 is at best "fair" agreement
MIN_SHARED_ITEMS = 10  # fewer items voted on by every reviewer: kappa is too unsteady to read
DISAGREE = "reviewers disagree — the win rate is not a verdict"


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels per item; None when chance agreement is total (every label the same)."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(x == y for x, y in pairs) / n
    first, second = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(first[c] * second[c] for c in first.keys() | second.keys()) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from a subjects × categories table of how many raters chose each (same number per subject)."""
    if not counts:
        return None
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        raise ValueError("Fleiss' kappa needs the same number (2 or more) of ratings for every subject")
    n = len(counts)
    p_j = [sum(row[j] for row in counts) / (n * raters) for j in range(len(counts[0]))]
    p_i = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts]
    p_bar, p_e = sum(p_i) / n, sum(p * p for p in p_j)
    return None if p_e == 1 else (p_bar - p_e) / (1 - p_e)


@dataclass(frozen=True)
class Agreement:
    """Per-reviewer and overall win rates, and kappa over the items every reviewer voted on (`shared`)."""

    reviewers: dict[str, WinRate]
    overall: WinRate  # one verdict per item (the reviewers' majority; a split is a tie), so n counts items
    kappa: float | None
    method: str  # "Cohen's kappa" | "Fleiss' kappa" | ""
    shared: int

    @property
    def verdict(self) -> str:
        """What a merchandiser may conclude, in words."""
        if len(self.reviewers) < 2:
            return "one reviewer: agreement cannot be measured; ask a second reviewer before treating this as a verdict"
        if self.shared < MIN_SHARED_ITEMS:
            return (f"only {self.shared} item(s) were voted on by every reviewer: too few to measure agreement "
                    f"(need {MIN_SHARED_ITEMS}); the win rate is not a verdict yet")
        if self.kappa is None:
            return "every vote was the same, so kappa is undefined; the reviewers did not disagree"
        if self.kappa < LOW_KAPPA:
            return f"{DISAGREE} ({self.method} {self.kappa:.2f}, n = {self.shared} items)"
        return f"reviewers agree ({self.method} {self.kappa:.2f}, n = {self.shared} items)"

    @property
    def low(self) -> bool:
        return len(self.reviewers) >= 2 and self.shared >= MIN_SHARED_ITEMS and self.kappa is not None \
            and self.kappa < LOW_KAPPA


def agreement_of(frame: pd.DataFrame) -> Agreement:
    """From vote rows (sku, reviewer, winner): each reviewer's win rate, the per-item majority, and kappa."""
    frame = frame.assign(reviewer=frame["reviewer"].fillna("").replace("", "(unnamed)"))
    per = {name: win_rate(group["winner"]) for name, group in sorted(frame.groupby("reviewer"))}
    table = frame.pivot_table(index="sku", columns="reviewer", values="winner", aggfunc="first")
    overall = win_rate(_majority(row.dropna().tolist()) for _, row in table.iterrows())
    complete = table.dropna()
    if len(per) == 2:
        kappa, method = cohen_kappa(list(complete.itertuples(index=False, name=None))), "Cohen's kappa"
    elif len(per) > 2:
        counts = [[list(row).count(c) for c in CATEGORIES] for row in complete.itertuples(index=False)]
        kappa, method = fleiss_kappa(counts), "Fleiss' kappa"
    else:
        kappa, method = None, ""
    return Agreement(per, overall, kappa, method, len(complete) if len(per) >= 2 else 0)


def _majority(winners: list[str]) -> str:
    """The item's verdict: the most common vote; a split between the top two is a tie."""
    top = Counter(winners).most_common(2)
    return "tie" if len(top) == 2 and top[0][1] == top[1][1] else top[0][0]


def agreement(lab: Lab, comparison: str) -> Agreement:
    return agreement_of(votes(lab, comparison))
