"""Neighbour precision against a hand-checked 2-D example."""

import numpy as np
import pytest

from core.evaluation.neighbours import chance_precision, neighbour_precision
from core.nets.encoders import normalise
from core.represent.recommend import Matrix


def test_neighbour_precision_by_hand():
    # two tight clusters on the unit circle: items 0,1,2 near 0°, items 3,4 near 90°
    angles = np.radians([0, 5, 10, 90, 95])
    m = Matrix("toy", list("abcde"), normalise(np.stack([np.cos(angles), np.sin(angles)], axis=1)),
               {s: i for i, s in enumerate("abcde")})
    labels = ["x", "x", "y", "z", "z"]
    p = neighbour_precision(m, labels, k=2)
    # k=2: a->{b,c}: 1/2; b->{a,c}: 1/2; c->{b,a}: 0; d->{e, c}: 1/2; e->{d, c}: 1/2
    assert p.tolist() == [0.5, 0.5, 0.0, 0.5, 0.5]
    assert chance_precision(labels).tolist() == pytest.approx([0.25, 0.25, 0.0, 0.25, 0.25])
    with pytest.raises(ValueError):
        neighbour_precision(m, labels[:-1])
