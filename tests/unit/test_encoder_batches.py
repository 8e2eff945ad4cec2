"""Length-bucketed MiniLM batches: every text once, padded size within the token budget, input order kept."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from core.nets import encoders
from core.nets.encoders import HashEncoder, MiniLMEncoder, plan_batches

RNG = np.random.default_rng(7)
LENGTHS = RNG.integers(3, 120, size=500).tolist()


@pytest.mark.parametrize(("max_texts", "max_tokens"), [(64, 512), (8, 4096), (256, 256), (1, 512)])
def test_every_text_lands_in_exactly_one_batch_within_both_caps(max_texts: int, max_tokens: int) -> None:
    batches = plan_batches(LENGTHS, max_texts, max_tokens)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(LENGTHS)))
    for rows in batches:
        padded = len(rows) * max(LENGTHS[i] for i in rows)
        assert len(rows) <= max_texts and (padded <= max_tokens or len(rows) == 1)


def test_batches_hold_neighbouring_lengths_so_padding_stays_small() -> None:
    batches = plan_batches(LENGTHS, 64, 512)
    spans = [(min(LENGTHS[i] for i in rows), max(LENGTHS[i] for i in rows)) for rows in batches]
    assert all(hi <= next_lo for (_, hi), (next_lo, _) in zip(spans, spans[1:], strict=False))
    real = sum(LENGTHS)
    padded = sum(len(rows) * max(LENGTHS[i] for i in rows) for rows in batches)
    assert padded / real < 1.05  # sorted fixed batches of 16 by characters padded ~1.1-1.3x on bench texts


def test_a_text_longer_than_the_budget_still_gets_a_batch_of_its_own() -> None:
    batches = plan_batches([10, 900, 12], 64, 512)
    assert [sorted(b.tolist()) for b in batches] == [[0, 2], [1]]


def test_the_budget_fills_a_batch_as_far_as_it_allows() -> None:
    batches = plan_batches([40] * 30, 64, 512)  # 12 x 40 = 480 fits, 13 x 40 = 520 does not
    assert [len(b) for b in batches] == [12, 12, 6]


def test_bad_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_batches([5], 0, 512)


class _FakeNet:
    """Stands in for the loaded network: embeds each text on its own, recording the batch sizes it was given."""

    backend = "onnxruntime"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def runner(self) -> Callable[[list[str]], np.ndarray]:
        def run(batch: list[str]) -> np.ndarray:
            self.batches.append(batch)
            return HashEncoder().encode(batch) * 3.0  # unnormalised, as a runner may return
        return run


def test_encode_returns_rows_in_input_order_whatever_the_batches() -> None:
    texts = [("word " * int(n)).strip() + f" {i}" for i, n in enumerate(RNG.integers(1, 60, size=200))]
    encoder = MiniLMEncoder()
    fake = _FakeNet()
    encoder._net = fake  # type: ignore[assignment]
    vectors = encoder.encode(texts)
    np.testing.assert_allclose(vectors, HashEncoder().encode(texts), atol=1e-6)
    assert len(fake.batches) > 1 and sum(map(len, fake.batches)) == len(texts)
    lengths = encoder.token_lengths(texts)
    assert max(len(b) * max(lengths[texts.index(t)] for t in b) for b in fake.batches if len(b) > 1) <= \
        encoders.TOKEN_BUDGETS["onnxruntime"]
