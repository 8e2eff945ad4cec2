"""Image validation and the content-addressed image store (images/<sha256>.<ext>, thumbs/<sha256>.jpg)."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import VitrineError

pillow_heif.register_heif_opener()  # iPhone photos (HEIC); Pillow reads AVIF itself
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png", "BMP": "png", "TIFF": "png",
                   "HEIF": "jpg", "AVIF": "jpg"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
UNSUPPORTED_FORMATS = {".svg": "SVG", ".svgz": "SVG"}  # named in a verdict rather than skipped: people expect them
MAX_PIXELS = 40_000_000  # ~6300x6300; Pillow's bomb guard is raised to an error at this size
MAX_SIDE = 12_000
MAX_FILE_BYTES = 50 * 1024 * 1024
THUMB_SIZE = (192, 192)


class ImageRejected(VitrineError):
    """The file is not an image Vitrine can safely store; the message says why."""


@dataclass(frozen=True)
class CleanImage:
    """A validated image: the sha of the uploaded bytes plus a normalised RGB rendition."""

    sha256: str
    ext: str
    data: bytes
    width: int
    height: int


def unsupported_format(name: str) -> ImageRejected | None:
    """The verdict for a format people expect to work but Vitrine does not read (SVG can carry scripts)."""
    fmt = UNSUPPORTED_FORMATS.get(PurePosixPath(name).suffix.lower())
    return ImageRejected(f"{name}: unsupported format ({fmt}): convert to JPEG or PNG") if fmt else None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_image(data: bytes, name: str = "image") -> CleanImage:
    """Check format, size and bombs; apply EXIF orientation; convert to RGB; keyed by upload bytes."""
    if not data:
        raise ImageRejected(f"{name}: empty file (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageRejected(f"{name}: file is {len(data) / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES // 10**6} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or ""
            if fmt not in ALLOWED_FORMATS:
                raise ImageRejected(f"{name}: unsupported image format {fmt or 'unknown'}; use JPEG, PNG or WebP")
            w, h = img.size
            if w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
                raise ImageRejected(f"{name}: {w}x{h} pixels is too large (limit {MAX_PIXELS // 10**6} MP, "
                                    f"{MAX_SIDE} px per side); possible decompression bomb")
            img.load()
            rgb = _to_rgb(ImageOps.exif_transpose(img))
    except ImageRejected:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"{name}: not a recognised image file") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"{name}: too large ({exc}); possible decompression bomb") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"{name}: damaged or truncated image ({exc})") from exc
    ext = ALLOWED_FORMATS[fmt]
    buf = io.BytesIO()
    if ext == "jpg":
        rgb.save(buf, "JPEG", quality=92)
    else:
        rgb.save(buf, "PNG" if ext == "png" else "WEBP", **({"lossless": True} if ext == "webp" else {}))
    return CleanImage(sha256_bytes(data), ext, buf.getvalue(), rgb.width, rgb.height)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Flatten alpha onto white (product shots), map CMYK/16-bit/palette to 8-bit RGB."""
    if getattr(img, "is_animated", False):
        img.seek(0)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        img = img.point(lambda v: v / 256).convert("L")
    if img.mode in ("P", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img, mask=img.getchannel("A"))
        return white
    return img.convert("RGB")


class ImageStore:
    """Files named by content, so the same image is stored once whatever its SKU or file name."""

    def __init__(self, images_dir: Path, thumbs_dir: Path) -> None:
        self.images_dir = images_dir
        self.thumbs_dir = thumbs_dir

    def path(self, sha256: str, ext: str) -> Path:
        return self.images_dir / f"{sha256}.{ext}"

    def thumb_path(self, sha256: str) -> Path:
        return self.thumbs_dir / f"{sha256}.jpg"

    def has(self, sha256: str, ext: str) -> bool:
        return self.path(sha256, ext).exists()

    def put(self, image: CleanImage) -> Path:
        """Write image and thumbnail atomically (tmp + rename) so a crash never leaves half a file."""
        self.images_dir.mkdir(parents=True, exist_ok=True)
        self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        target = self.path(image.sha256, image.ext)
        if not target.exists():
            _atomic_write(target, image.data)
        thumb = self.thumb_path(image.sha256)
        if not thumb.exists():
            with Image.open(io.BytesIO(image.data)) as img:
                img.thumbnail(THUMB_SIZE)
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=85)
            _atomic_write(thumb, buf.getvalue())
        return target


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
