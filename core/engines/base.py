"""The engine contract: how changed rows become vectors, images become descriptions, and a large table its index.

Both engines get the same rows and keys from the caller (core.represent.representations, core.runs.describe), so
what they store is the same: only where the encoders and describers run differs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from core.catalog.ann import AnnConfig
from core.catalog.store import Store
from core.describe.base import Describer
from core.describe.prompts import PromptVersion
from core.models import Description, ImageRef
from core.nets.encoders import MiniLMEncoder, TextEncoder

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Model:
    """An encoder two ways: `encode`, loaded in this process; `load`, a picklable recipe a Ray actor runs once."""

    encode: Encode
    load: Callable[[], Encode]


@dataclass(frozen=True)
class VectorRows:
    """One representation's rows to (re-)embed; `inputs` are texts, or stored image paths for `visual`."""

    table: str
    dim: int
    skus: list[str]
    shas: list[str]
    text_shas: list[str]
    inputs: list[str]
    fresh: bool = False  # the table holds none of these SKUs yet (a first sync): rows can be appended, not merged

    def distinct(self) -> tuple[list[str], np.ndarray]:
        """Each input once, and each row's position among them: colour and size variants share an image (and often
        a text), so both engines encode it once instead of once per SKU."""
        position: dict[str, int] = {}
        rows = np.fromiter((position.setdefault(x, len(position)) for x in self.inputs), np.int64, len(self.inputs))
        return list(position), rows


class Engine(Protocol):
    name: str

    def write_vectors(self, store: Store, rows: VectorRows, model: Model) -> None:
        """Embed rows.inputs and merge the vectors into rows.table on sku."""
        ...

    def describe(self, describer: Describer, rebuild: Callable[[], Describer], todo: list[ImageRef],
                 prompt: PromptVersion, concurrency: int, stop: threading.Event) -> Iterator[tuple[ImageRef,
                                                                                                 Description]]:
        """(ref, description) for each ref, as they finish; nothing new starts once `stop` is set."""
        ...

    def build_index(self, store: Store, table: str, config: AnnConfig) -> float:
        """Build the table's vector index; the seconds it took."""
        ...


def _minilm(batch_size: int | None, backend: str) -> Encode:
    return MiniLMEncoder(batch_size, backend).encode


def text_model(encoder: TextEncoder) -> Model:
    """The Lab's text encoder; MiniLM is rebuilt from its settings in an actor, a plain encoder travels as it is."""
    if isinstance(encoder, MiniLMEncoder):
        return Model(encoder.encode, partial(_minilm, encoder.requested_batch_size, encoder.requested_backend))
    return Model(encoder.encode, partial(getattr, encoder, "encode"))


def _visual_encode(vision: object, image_paths: list[str]) -> np.ndarray:
    """Pooled features by stored image path; stored images are named by their sha256, the vision cache's key."""
    from core.nets.vision import VisionModel

    assert isinstance(vision, VisionModel)
    return vision.analyse_keyed([Path(p).stem for p in image_paths], [Path(p) for p in image_paths]).features


def _vision() -> Encode:
    from core.nets.vision import VisionModel

    return partial(_visual_encode, VisionModel())


def visual_model() -> Model:
    """EfficientNet-Lite0 features: the process-wide model here, one loaded per actor on Ray."""
    from core.nets.vision import default_vision_model

    return Model(partial(_visual_encode, default_vision_model()), _vision)
