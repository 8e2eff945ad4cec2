"""Images as servers accept them: transcoding, downscaling, what is billed for the size actually sent."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from core.describe.image_payload import prepare_image, sent_size, stored_size
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.openai_provider import OpenAIDescriber
from core.errors import ConfigError, VitrineError


def save(path: Path, size: tuple[int, int], fmt: str, mode: str = "RGB") -> Path:
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(path, fmt)
    return path


def decoded(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_jpeg_and_png_within_the_long_side_are_sent_byte_for_byte(tmp_path: Path) -> None:
    for name, fmt, media in (("a.jpg", "JPEG", "image/jpeg"), ("a.png", "PNG", "image/png")):
        path = save(tmp_path / name, (800, 600), fmt)
        sent = prepare_image(path)
        assert base64.b64decode(sent.data) == path.read_bytes()
        assert (sent.media_type, sent.width, sent.height) == (media, 800, 600)


def test_webp_is_transcoded_to_jpeg_which_every_server_decodes(tmp_path: Path) -> None:
    """Observed: uploads are stored as WebP, and llama.cpp's server cannot decode WebP."""
    sent = prepare_image(save(tmp_path / "a.webp", (640, 480), "WEBP"))
    assert sent.media_type == "image/jpeg" and decoded(sent.data).format == "JPEG"
    assert (sent.width, sent.height) == decoded(sent.data).size == (640, 480)


def test_alpha_is_kept_as_png(tmp_path: Path) -> None:
    sent = prepare_image(save(tmp_path / "a.webp", (300, 200), "WEBP", mode="RGBA"))
    assert sent.media_type == "image/png" and decoded(sent.data).mode == "RGBA"


def test_large_images_are_downscaled_to_the_long_side(tmp_path: Path) -> None:
    path = save(tmp_path / "big.png", (4000, 3000), "PNG")
    default = prepare_image(path)
    assert (default.width, default.height) == decoded(default.data).size == (1568, 1176)
    assert default.media_type == "image/jpeg"  # re-encoded, and no alpha to keep
    small = prepare_image(path, max_side=512)
    assert decoded(small.data).size == (512, 384)
    assert sent_size(100, 50, 1568) == (100, 50)  # never upscaled


def test_unreadable_images_fail_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(VitrineError, match="cannot read image .*gone.png"):
        prepare_image(tmp_path / "gone.png")
    notes = tmp_path / "notes.png"
    notes.write_text("definitely not a picture")
    with pytest.raises(VitrineError, match="not a decodable image"):
        prepare_image(notes)
    assert stored_size(notes) is None


def test_image_options_are_checked_when_the_describer_is_built() -> None:
    with pytest.raises(ConfigError, match="image_max_side"):
        OpenAIDescriber(base_url="http://x", image_max_side=0)
    with pytest.raises(ConfigError, match="detail must be one of auto, low, high"):
        OpenAIDescriber(base_url="http://x", detail="ultra")
    assert OpenAIDescriber(base_url="http://x", image_max_side="1024").image_max_side == 1024  # type: ignore[arg-type]


def test_image_tokens_follow_each_providers_billing_of_the_sent_size() -> None:
    assert OpenAIDescriber.image_tokens("gpt-4o", 512, 512) == 85 + 170  # one tile
    assert OpenAIDescriber.image_tokens("gpt-4o", 1568, 1176) == 85 + 170 * 4  # 1024x768 after scaling: 2x2 tiles
    assert OpenAIDescriber.image_tokens("gpt-4o-mini", 1568, 1176, "low") == 2833
    assert OpenAIDescriber.image_tokens("gpt-4o-mini", 512, 512) == 2833 + 5667
    assert AnthropicDescriber.image_tokens("claude-haiku-4-5", 512, 512) == 350
    assert AnthropicDescriber.image_tokens("claude-haiku-4-5", 4000, 3000) == 1600  # downscaled, then capped
