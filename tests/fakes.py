"""Test doubles: a queued-response describer and helpers to draw small product images."""

from __future__ import annotations

import io
import threading
from collections import deque
from pathlib import Path

from PIL import Image, ImageDraw

from core.describe.prompts import PromptVersion
from core.models import Attributes, Description, ImageRef

COLOURS = {"red": (200, 30, 30), "blue": (30, 60, 200), "green": (30, 160, 60), "black": (20, 20, 20)}


class FakeDescriber:
    """Returns queued (text, attributes) or exceptions in order; falls back to text from the item context."""

    provider = "fake"
    needs_key = False
    key_env_var = None
    supports_batch = False
    is_lvlm = True  # it stands in for an LVLM provider

    def __init__(self, responses: list[tuple[str, dict] | Exception] | None = None, model: str = "fake-1") -> None:
        self.model = model
        self.queue: deque = deque(responses or [])
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        with self._lock:
            self.calls.append((image.sha256, prompt.ref))
            nxt = self.queue.popleft() if self.queue else None
        if isinstance(nxt, Exception):
            raise nxt
        text, attrs = nxt or (f"{image.context.get('title', 'item')} {image.context.get('category', '')} "
                              f"for {prompt.name}", {"style": [image.context.get("style", "classic")]})
        attrs = {k: v for k, v in attrs.items() if k in prompt.facets}
        return Description(image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=self.provider, model=self.model, text=text,
                           attributes=Attributes(**attrs), input_tokens=10, output_tokens=20, cost_usd=0.001)


def png_bytes(colour: str = "red", size: tuple[int, int] = (64, 64), shape: str = "square") -> bytes:
    """A product-like image: a coloured shape on white."""
    img = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(img)
    box = (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4)
    (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=COLOURS[colour])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def write_catalog(folder: Path, items: list[dict]) -> bytes:
    """Write images for items (sku, title, category, colour, shape) and return a metadata CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["sku,title,category,image,style"]
    for it in items:
        name = f"{it['sku']}.png"
        (folder / name).write_bytes(png_bytes(it.get("colour", "red"), shape=it.get("shape", "square"))
                                    + it["sku"].encode())  # trailing bytes keep every file's sha distinct
        lines.append(f"{it['sku']},{it['title']},{it['category']},{name},{it.get('style', 'classic')}")
    return ("\n".join(lines) + "\n").encode()
