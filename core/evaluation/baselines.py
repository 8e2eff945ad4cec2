"""The methods an evaluation compares: random, popularity, stored representations and their fusions.

A spec names one method: `random`, `popularity`, a stored representation (`title`, `visual`,
`preference@v1/offline/...`), or a fusion of two stored representations: `concat:A+B` (concatenated
normalised vectors), `mean:A+B` (mean of the two cosine scores) or `weighted:A+B` (w·A + (1−w)·B with w
tuned on the validation split only). Every scorer maps shopper histories to scores over the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.errors import EvaluationError
from core.evaluation.coverage import CatalogueCoverage, Coverage, catalogue_coverage
from core.lab import Lab
from core.nets.encoders import normalise
from core.represent.recommend import Matrix, default_representation, profile_vector

RANDOM, POPULARITY = "random", "popularity"
FUSIONS = ("concat", "mean", "weighted")
WEIGHT_GRID = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))


@dataclass(frozen=True)
class Spec:
    kind: str  # random | popularity | stored | concat | mean | weighted
    parts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        if self.kind in (RANDOM, POPULARITY):
            return self.kind
        return self.parts[0] if self.kind == "stored" else f"{self.kind}:{'+'.join(self.parts)}"


def parse_spec(text: str) -> Spec:
    text = text.strip()
    if not text:
        raise EvaluationError("empty representation name")
    if text in (RANDOM, POPULARITY):
        return Spec(text)
    kind, sep, rest = text.partition(":")
    if sep and kind in FUSIONS:
        parts = tuple(p.strip() for p in rest.split("+"))
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise EvaluationError(f"{text!r}: a fusion names two different representations, e.g. "
                                  f"{kind}:preference@v1/offline/efficientnet-lite0-tagger+visual")
        return Spec(kind, parts)
    return Spec("stored", (text,))


def parse_specs(texts: list[str]) -> list[Spec]:
    specs = list({s.name: s for s in map(parse_spec, texts)}.values())  # de-duplicated, order kept
    if not specs:
        raise EvaluationError("pick at least one representation to evaluate")
    return specs


def stored_names(specs: list[Spec]) -> list[str]:
    """Stored representations the specs need vectors from (they define the shared candidate pool)."""
    return list(dict.fromkeys(p for s in specs if s.kind not in (RANDOM, POPULARITY) for p in s.parts))


def _fusions(lab: Lab, cov: CatalogueCoverage, names: list[str]) -> list[str]:
    """The three fusions of one pair: the default description run with `visual` (the paper's fusion), else `title`."""
    reg = cov.registry
    descriptions = [n for n in reg.loc[reg["kind"] == "description", "name"] if n in names]
    partner = next((n for n in ("visual", "title") if n in names), None)
    if not descriptions or not partner:
        return []
    preferred = default_representation(lab)
    lead = preferred if preferred in descriptions else descriptions[0]
    return [f"{kind}:{lead}+{partner}" for kind in FUSIONS]


@dataclass(frozen=True)
class Choices:
    """What the Evaluation form offers: everything with vectors, preselecting only full-coverage methods."""

    options: list[str]
    defaults: list[str]  # = default_specs(lab)
    excluded: list[Coverage]  # partial representations: offered, never preselected
    catalogue: int  # catalogue SKUs


def evaluation_choices(lab: Lab) -> Choices:
    """Both trivial baselines, every representation covering the WHOLE catalogue and the fusions of one pair of
    those are preselected; a partial representation (a 12-item A/B sample run) is offered but never preselected,
    because comparing it shrinks the shared pool to its overlap for every method."""
    cov = catalogue_coverage(lab)
    full = [c.name for c in cov.all() if c.full]
    partial = [c for c in cov.all() if not c.full]
    defaults = [RANDOM, POPULARITY, *full, *_fusions(lab, cov, full)]
    return Choices(defaults + [c.name for c in partial], defaults, partial, len(cov.catalogue))


def default_specs(lab: Lab) -> list[str]:
    """'all': random, popularity, full-coverage representations and their default fusions (evaluation_choices)."""
    return evaluation_choices(lab).defaults


def pool_matrix(m: Matrix, pool: list[str]) -> Matrix:
    """The matrix restricted and reordered to the pool, so column j means the same SKU for every method."""
    return Matrix(m.name, pool, m.vectors[[m.index[s] for s in pool]], {s: i for i, s in enumerate(pool)})


def concat_matrix(a: Matrix, b: Matrix) -> Matrix:
    """Early fusion: [a | b] of the two normalised vectors, re-normalised (rows must share the pool order)."""
    return Matrix(f"concat:{a.name}+{b.name}", a.skus, normalise(np.hstack([a.vectors, b.vectors])), a.index)


class Scorer(Protocol):
    def scores(self, history: list[list[str]]) -> np.ndarray:
        """(shoppers, pool) scores; higher ranks first."""
        ...


class VectorScorer:
    """Cosine between each shopper's profile (core.represent.recommend.profile_vector) and every pool item.

    This is core.represent.recommend.recommend's scoring for many shoppers at once: one profile per shopper from
    profile_vector, then a single matrix product instead of one top_k mat-vec per shopper, because the
    metrics need the full ranking (every test item's rank, seeded tie order), not only the top k. The
    product runs in float64 so that identical items score identically to far below the tie rounding.
    """

    def __init__(self, matrix: Matrix) -> None:
        self.matrix = matrix
        self.vectors = matrix.vectors.astype(np.float64)

    def scores(self, history: list[list[str]]) -> np.ndarray:
        profiles = np.stack([profile_vector(self.matrix, h)[0] for h in history]).astype(np.float64)
        return profiles @ self.vectors.T


class ScoreFusion:
    """Late fusion: weight · cosine(A) + (1 − weight) · cosine(B); weight 0.5 is the plain mean."""

    def __init__(self, a: VectorScorer, b: VectorScorer, weight: float) -> None:
        self.a, self.b, self.weight = a, b, weight

    def scores(self, history: list[list[str]]) -> np.ndarray:
        return self.weight * self.a.scores(history) + (1 - self.weight) * self.b.scores(history)


class Popularity:
    """Train-split interaction counts, the same ranking for everybody (history still excluded)."""

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = np.asarray(counts, dtype=np.float64)

    def scores(self, history: list[list[str]]) -> np.ndarray:
        return np.tile(self.counts, (len(history), 1))


class RandomScores:
    """Uniform random scores from a seeded stream (stream 3 of the evaluation seed)."""

    def __init__(self, pool_size: int, seed: int) -> None:
        self.pool_size = pool_size
        self.rng = np.random.default_rng([seed, 3])

    def scores(self, history: list[list[str]]) -> np.ndarray:
        return self.rng.random((len(history), self.pool_size))
