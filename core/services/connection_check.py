"""Testing a connection: send one image, return the reply and how long it took (`vitrine connection test`, Home)."""

from __future__ import annotations

import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.catalog.images import validate_image
from core.describe.connections import Connection, get_connection, learn
from core.errors import ConfigError, VitrineError
from core.lab import Lab
from core.models import ImageRef

TEST_CONTEXT = {"title": "connection test", "category": "product"}


@dataclass(frozen=True)
class ConnectionCheck:
    connection: Connection  # as it is after the call, with what it learnt (e.g. structured_mode)
    image: str  # which image was sent
    reply: str  # the description the model wrote: untrusted text, show it as plain text
    attributes: dict[str, list[str]]
    latency_ms: float


def try_connection(lab: Lab, name: str, image: bytes | None = None, image_name: str = "upload", *,
                   api_key: str | None = None) -> ConnectionCheck:
    """Describe one image through a named connection with the active prompt: the given image, else the catalogue's
    first, else a drawn swatch. A failure raises the provider's own error, which says what to fix."""
    connection = get_connection(lab.store, name)
    if problem := lab.key_route(connection, api_key).problem:
        raise ConfigError(problem)
    describer = lab.describer(connection=connection, api_key=api_key)
    items = lab.store.items()
    with tempfile.TemporaryDirectory(prefix="vitrine-connection-") as tmp:
        if image is None and len(items):
            ref, shown = lab.image_ref(items.iloc[0].to_dict()), f"catalogue item {items.iloc[0]['sku']}"
        else:
            clean = validate_image(image if image is not None else _swatch(), image_name)
            path = Path(tmp) / f"sent.{clean.ext}"
            path.write_bytes(clean.data)
            ref = ImageRef(clean.sha256, path, TEST_CONTEXT)
            shown = image_name if image is not None else "a drawn red swatch"
        started = time.perf_counter()
        description = describer.describe(ref, lab.active_prompt())
        latency_ms = (time.perf_counter() - started) * 1000
    if description.error or not description.text.strip():
        raise VitrineError(f"{connection.label()} answered without a usable description: "
                           f"{description.error or 'empty text'}")
    return ConnectionCheck(learn(lab.store, connection, describer), shown, description.text,
                           {k: v for k, v in description.attributes.model_dump().items() if v}, latency_ms)


def _swatch() -> bytes:
    """A 96 px red square: something to send when the workspace has no image yet."""
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()
