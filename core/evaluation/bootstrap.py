"""Percentile bootstrap over shoppers: confidence intervals of means and of paired per-shopper differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.evaluation.metrics import metric_label

N_RESAMPLES = 1000
CONFIDENCE = 0.95
_CHUNK_CELLS = 4_000_000  # resample indices held in memory at once


@dataclass(frozen=True)
class Estimate:
    mean: float
    lo: float
    hi: float
    n: int

    def text(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"

    def as_dict(self) -> dict:
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi, "n": self.n}


def resampled_means(values: np.ndarray, *, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """Means of `n_resamples` samples of shoppers drawn with replacement (stream 4 of the seed)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    rng = np.random.default_rng([seed, 4])
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


@dataclass(frozen=True)
class Paired:
    """A minus B on one metric, over the same shoppers: mean difference with its bootstrap interval."""

    a: str
    b: str
    metric: str
    diff: Estimate
    unit: str = "shoppers"  # what was resampled

    @property
    def verdict(self) -> str:
        if self.diff.lo > 0:
            return "a"
        if self.diff.hi < 0:
            return "b"
        return "tie"

    def sentence(self, digits: int = 3) -> str:
        d, label = self.diff, metric_label(self.metric)

        def ci(lo: float, hi: float) -> str:
            return f"95% CI [{lo:+.{digits}f}, {hi:+.{digits}f}], n = {d.n} {self.unit}"

        if self.verdict == "a":
            return f"{self.a} beats {self.b} on {label} by {d.mean:.{digits}f} ({ci(d.lo, d.hi)})."
        if self.verdict == "b":  # state the winner first, with the interval of winner − loser
            return f"{self.b} beats {self.a} on {label} by {-d.mean:.{digits}f} ({ci(-d.hi, -d.lo)})."
        return (f"No clear difference between {self.a} and {self.b} on {label}: {self.a} − {self.b} = "
                f"{d.mean:+.{digits}f} ({ci(d.lo, d.hi)}, which includes 0).")


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, names: tuple[str, str], metric: str, seed: int,
                     n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE, unit: str = "shoppers") -> Paired:
    """Resample shoppers (not the two methods separately), so shared per-shopper difficulty cancels out."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired values must cover the same shoppers")
    diff = bootstrap_ci(a - b, seed=seed, n_resamples=n_resamples, confidence=confidence)
    return Paired(names[0], names[1], metric, diff, unit)
