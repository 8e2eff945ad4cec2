"""Item-to-item neighbour precision: do an item's nearest neighbours share its label (e.g. type and usage)?"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from core.represent.recommend import Matrix, top_k


def neighbour_precision(matrix: Matrix, labels: Sequence[str], k: int = 10) -> np.ndarray:
    """Per item (rows of `matrix`, labels aligned to them): share of its k nearest other items with its label."""
    if len(labels) != len(matrix.skus):
        raise ValueError("one label per matrix row")
    names = np.asarray(labels, dtype=object)
    out = np.empty(len(names))
    for row in range(len(names)):
        idx, _ = top_k(matrix.vectors, matrix.vectors[row], k, [row])
        out[row] = float((names[idx] == names[row]).mean()) if len(idx) else 0.0
    return out


def chance_precision(labels: Sequence[str]) -> np.ndarray:
    """Expected neighbour precision of a random ranking: (items sharing the label − 1) / (items − 1)."""
    counts = Counter(labels)
    n = len(labels)
    return np.array([(counts[label] - 1) / max(n - 1, 1) for label in labels])
