"""Intervals and verdicts over shoppers: percentile-bootstrap intervals of means and of paired per-shopper
differences; a paired sign-flip permutation p-value; Holm–Bonferroni across the comparisons shown together.

A "beats" verdict needs all of: at least MIN_VERDICT_SHOPPERS shoppers (or query items), and a Holm-adjusted
p-value below ALPHA within its family (the comparisons one report, page section or table shows together).
Why a permutation test and not a bootstrap p: under "A and B are equally good" each per-shopper difference is
as likely to be +d as −d, so random sign flips give the exact null distribution at any n; the percentile
bootstrap is too eager with few shoppers (simulated: 8–9% false wins at n = 30 where 5% is promised).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.evaluation.metrics import metric_label

N_RESAMPLES = 1000
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # family-wise error rate of the verdicts
PERMUTATIONS = 10_000  # sign flips per comparison: the smallest p is 1 / 10,001, so families up to ~500 can pass
MIN_VERDICT_SHOPPERS = 30  # fewer and no verdict: one shopper moves a mean of 0/1 hits by more than 3 points
BOOTSTRAP_STREAM, PERMUTATION_STREAM = 4, 5  # numpy PCG64 streams [seed, 4] and [seed, 5]
_CHUNK_CELLS = 4_000_000  # resample indices held in memory at once


@dataclass(frozen=True)
class Estimate:
    mean: float
    lo: float
    hi: float
    n: int

    def text(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"

    def cell(self, digits: int = 3) -> str:
        """The interval with its n, as every table shows it: '0.057 [0.033, 0.083] n=300'."""
        return f"{self.text(digits)} n={self.n}"

    def as_dict(self) -> dict:
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi, "n": self.n}


def resampled_means(values: np.ndarray, *, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """Means of `n_resamples` samples of shoppers drawn with replacement (stream 4 of the seed)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM])
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    parts = []
    for start in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        parts.append(values[idx].mean(axis=1))
    return np.concatenate(parts)


def bootstrap_ci(values: np.ndarray, *, seed: int, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE) -> Estimate:
    """Mean with a percentile-bootstrap interval; deterministic for a given seed."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    means = resampled_means(values, seed=seed, n_resamples=n_resamples)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    mean = float(values.mean())
    return Estimate(mean, min(float(lo), mean), max(float(hi), mean), len(values))


def sign_flip_p(diffs: np.ndarray, *, seed: int, permutations: int = PERMUTATIONS) -> float:
    """Two-sided paired permutation p of 'mean difference = 0': (1 + #{|mean of sign-flipped diffs| ≥ |mean|})
    / (1 + permutations), flips drawn from stream 5 of the seed. 1.0 for no shoppers or all-zero differences."""
    diffs = np.asarray(diffs, dtype=np.float64)
    n = len(diffs)
    observed = abs(diffs.sum())
    if n == 0 or observed == 0:
        return 1.0
    rng = np.random.default_rng([seed, PERMUTATION_STREAM])
    chunk = max(1, _CHUNK_CELLS // n)
    tolerance = 1e-9 * np.abs(diffs).sum()  # flips that reproduce |sum| up to float noise count as extreme
    extreme = 0
    for start in range(0, permutations, chunk):
        signs = rng.integers(0, 2, size=(min(chunk, permutations - start), n), dtype=np.int8) * 2 - 1
        extreme += int((np.abs(signs @ diffs) >= observed - tolerance).sum())
    return (1 + extreme) / (1 + permutations)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values: the i-th smallest of m is multiplied by (m − i + 1), then made
    non-decreasing in that order and capped at 1. Rejecting adjusted p < ALPHA keeps the family-wise error ≤ ALPHA."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (m - rank) * float(p[idx])))
        adjusted[idx] = running
    return adjusted.tolist()


@dataclass(frozen=True)
class Paired:
    """A minus B on one metric over the same shoppers: mean difference, bootstrap interval, permutation p, and
    the Holm-adjusted p within the family of comparisons it is shown with (a lone comparison is a family of one).

    verdict: "a" (A better) | "b" (B better) | "tie" (no significant difference after the correction) |
    "insufficient" (fewer than min_n shoppers: no verdict at all, whatever the numbers say).
    """

    a: str
    b: str
    metric: str
    diff: Estimate
    p_value: float = 1.0
    unit: str = "shoppers"  # what was resampled
    min_n: int = MIN_VERDICT_SHOPPERS
    family_size: int = 1
    p_adjusted: float | None = None  # Holm within the family; None: a family of one (= p_value)

    @property
    def p_holm(self) -> float:
        return self.p_value if self.p_adjusted is None else self.p_adjusted

    @property
    def verdict(self) -> str:
        if self.diff.n < self.min_n:
            return "insufficient"
        if self.p_holm < ALPHA and self.diff.mean != 0:
            return "a" if self.diff.mean > 0 else "b"
        return "tie"

    @property
    def reason(self) -> str:
        """Why a verdict is withheld ('' when there is one)."""
        if self.verdict == "insufficient":
            return f"too few {self.unit} for a verdict (n = {self.diff.n} < {self.min_n})"
        if self.verdict == "tie":
            if self.family_size > 1:
                return (f"not significant after Holm correction across {self.family_size} comparisons "
                        f"(p = {self.p_value:.4f}, Holm-adjusted p = {self.p_holm:.4f})")
            return f"not significant (p = {self.p_value:.4f}, a single comparison)"
        return ""

    def significance(self) -> str:
        """'p = …, Holm-adjusted p = … across F comparisons' (or 'a single comparison')."""
        if self.family_size > 1:
            return (f"p = {self.p_value:.4f}, Holm-adjusted p = {self.p_holm:.4f} across {self.family_size} "
                    "comparisons")
        return f"p = {self.p_value:.4f}, a single comparison"

    def sentence(self, digits: int = 3) -> str:
        d, label = self.diff, metric_label(self.metric)

        def ci(lo: float, hi: float) -> str:
            return f"95% CI [{lo:+.{digits}f}, {hi:+.{digits}f}], n = {d.n} {self.unit}"

        if self.verdict == "a":
            return (f"{self.a} beats {self.b} on {label} by {d.mean:.{digits}f} ({ci(d.lo, d.hi)}; "
                    f"{self.significance()}).")
        if self.verdict == "b":  # state the winner first, with the interval of winner − loser
            return (f"{self.b} beats {self.a} on {label} by {-d.mean:.{digits}f} ({ci(-d.hi, -d.lo)}; "
                    f"{self.significance()}).")
        difference = f"{self.a} − {self.b} = {d.mean:+.{digits}f} ({ci(d.lo, d.hi)})"
        if self.verdict == "insufficient":
            return f"No verdict on {self.a} vs {self.b} on {label}: {self.reason}; {difference}."
        return f"No clear difference between {self.a} and {self.b} on {label}: {difference}; {self.reason}."

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "metric": self.metric, "difference": self.diff.as_dict(), "unit": self.unit,
                "p": self.p_value, "p_holm": self.p_holm, "family_size": self.family_size, "min_n": self.min_n,
                "verdict": self.verdict, "reason": self.reason, "sentence": self.sentence()}


def corrected(family: Sequence[Paired]) -> list[Paired]:
    """The comparisons shown together, each with its Holm-adjusted p and the family size."""
    adjusted = holm([p.p_value for p in family])
    return [replace(p, p_adjusted=adj, family_size=len(family)) for p, adj in zip(family, adjusted, strict=True)]


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, names: tuple[str, str], metric: str, seed: int,
                     n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE, unit: str = "shoppers",
                     min_n: int = MIN_VERDICT_SHOPPERS, permutations: int = PERMUTATIONS) -> Paired:
    """Resample shoppers (not the two methods separately), so shared per-shopper difficulty cancels out; the
    p-value flips the sign of each shopper's difference. Alone it is a family of one: see corrected()."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired values must cover the same shoppers")
    diff = bootstrap_ci(a - b, seed=seed, n_resamples=n_resamples, confidence=confidence)
    return Paired(names[0], names[1], metric, diff, sign_flip_p(a - b, seed=seed, permutations=permutations),
                  unit, min_n)
