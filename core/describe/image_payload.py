"""Images as servers accept them: JPEG (PNG where there is alpha) no longer than a connection's long side.

Uploads are stored as WebP, which llama.cpp's server cannot decode and some LM Studio builds refuse as a data URI.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ConfigError, VitrineError

DEFAULT_MAX_SIDE = 1568  # Anthropic's guidance; larger images only cost more tokens and latency
SENDABLE = {"JPEG": "image/jpeg", "PNG": "image/png"}  # the formats every server decodes
JPEG_QUALITY = 90


@dataclass(frozen=True)
class SentImage:
    """What goes on the wire: the base64 data, its media type and its size in pixels (what tokens are billed on)."""

    data: str
    media_type: str
    width: int
    height: int


def sent_size(width: int, height: int, max_side: int = DEFAULT_MAX_SIDE) -> tuple[int, int]:
    """The size after downscaling to the long side (never upscaled)."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_max_side(value: object) -> int:
    """A connection's long side as an int, or a ConfigError saying what is allowed."""
    try:
        side = int(str(value))
    except ValueError:
        side = 0
    if side < 64:
        raise ConfigError(f"image_max_side must be a whole number of pixels, at least 64 (got {value!r})")
    return side


def _unreadable(path: Path, why: object) -> VitrineError:
    return VitrineError(f"cannot read image {path}: {why}")


def prepare_image(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> SentImage:
    """The image as sent: a JPEG or PNG within max_side passes unchanged; anything else is re-encoded."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc.strerror or exc) from exc
    try:
        with Image.open(io.BytesIO(raw)) as img:
            size = sent_size(*img.size, max_side)
            if img.format in SENDABLE and size == img.size:
                return SentImage(base64.b64encode(raw).decode("ascii"), SENDABLE[img.format], *size)
            img.seek(0)  # an animated image: its first frame
            upright = ImageOps.exif_transpose(img)
            alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            rendition = upright.convert("RGBA" if alpha else "RGB")
            if rendition.size != size:
                rendition = rendition.resize(size, Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise _unreadable(path, "not a decodable image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(path, f"damaged image ({exc})") from None
    buf = io.BytesIO()
    if alpha:
        rendition.save(buf, "PNG", optimize=True)
    else:
        rendition.save(buf, "JPEG", quality=JPEG_QUALITY)
    return SentImage(base64.b64encode(buf.getvalue()).decode("ascii"), "image/png" if alpha else "image/jpeg", *size)


def stored_size(path: Path) -> tuple[int, int] | None:
    """An image file's size in pixels from its header alone, or None when it cannot be read."""
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None
