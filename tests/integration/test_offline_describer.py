"""The offline describer with the real EfficientNet-Lite0 weights on drawn product images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.describe.prompts import PromptLibrary
from core.describe.providers.offline import MODEL, OfflineDescriber
from core.errors import ConfigError
from core.models import ImageRef
from core.nets.vision import VisionModel


def draw_tee(path, colour: tuple[int, int, int]) -> ImageRef:
    """A flat t-shirt silhouette on a white backdrop, as a catalogue packshot."""
    img = Image.new("RGB", (240, 240), (255, 255, 255))
    ImageDraw.Draw(img).polygon(
        [(80, 40), (100, 50), (140, 50), (160, 40), (210, 80), (185, 110), (165, 95), (165, 210), (75, 210),
         (75, 95), (55, 110), (30, 80)], fill=colour)
    img.save(path)
    return ImageRef(sha256=path.stem, path=path, context={})


def draw_mug(path) -> ImageRef:
    img = Image.new("RGB", (200, 200), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    draw.rectangle([50, 50, 130, 160], fill=(196, 36, 128))
    draw.ellipse([115, 75, 165, 135], outline=(196, 36, 128), width=10)
    img.save(path)
    return ImageRef(sha256=path.stem, path=path, context={"category": "home"})


@pytest.fixture(scope="module")
def describer() -> OfflineDescriber:
    return OfflineDescriber(vision=VisionModel())


@pytest.fixture
def images(tmp_path) -> list[ImageRef]:
    return [draw_tee(tmp_path / "navy.png", (32, 42, 82)), draw_tee(tmp_path / "red.png", (204, 34, 44)),
            draw_mug(tmp_path / "mug.png")]


def test_vision_returns_probabilities_and_unit_features(images):
    batch = VisionModel().analyse([ref.path for ref in images], batch_size=2)
    assert batch.probs.shape == (3, 1000) and batch.features.shape == (3, 1280)
    assert batch.probs.dtype == np.float32 and batch.features.dtype == np.float32
    np.testing.assert_allclose(batch.probs.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(batch.features, axis=1), 1.0, atol=1e-4)


def test_describes_a_drawn_image(describer, images):
    prompt = PromptLibrary().get("preference")
    desc = describer.describe(images[0], prompt)
    assert desc.ok and desc.provider == "offline" and desc.model == MODEL
    assert desc.input_tokens == desc.output_tokens == 0 and desc.cost_usd == 0 and desc.latency_ms > 0
    assert desc.prompt_hash == prompt.hash
    assert 0 < len(desc.text.split()) <= prompt.max_words
    assert desc.attributes.colour[0] == "navy blue"
    assert all(desc.attributes.facet(f) for f in prompt.facets)


def test_describe_many_matches_describe(describer, images):
    prompt = PromptLibrary().get("preference")
    many = describer.describe_many(images, prompt)
    one_by_one = [describer.describe(ref, prompt) for ref in images]
    assert [d.image_sha256 for d in many] == [ref.sha256 for ref in images]
    assert [(d.text, d.attributes) for d in many] == [(d.text, d.attributes) for d in one_by_one]


def test_context_category_steers_the_type(describer, images):
    desc = describer.describe(images[2], PromptLibrary().get("preference"))
    assert desc.attributes.colour[0] == "magenta"
    assert "home" in desc.text or "homely" in desc.attributes.style


def test_preference_and_appearance_give_different_texts(describer, images):
    lib = PromptLibrary()
    preference = describer.describe(images[1], lib.get("preference"))
    appearance = describer.describe(images[1], lib.get("appearance"))
    assert preference.text != appearance.text
    assert len(appearance.text.split()) <= 30 and len(appearance.text) < len(preference.text)
    assert appearance.attributes.style == [] and preference.attributes.style
    assert preference.attributes.colour == appearance.attributes.colour


def test_an_unreadable_image_fails_alone(describer, images, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    out = describer.describe_many([images[0], ImageRef(sha256="x", path=broken, context={})],
                                  PromptLibrary().get("appearance"))
    assert out[0].ok and not out[1].ok and "cannot read image" in out[1].error


def test_only_the_bundled_model_is_accepted():
    with pytest.raises(ConfigError):
        OfflineDescriber(model="gpt-4o", vision=VisionModel())


def test_title_is_used_only_when_the_prompt_shows_it(describer, images):
    lib = PromptLibrary()
    titled = ImageRef(images[0].sha256, images[0].path, {"title": "Navy Oxford Shirt", "style": "romantic"})
    preference = describer.describe(titled, lib.get("preference"))  # declares {title}
    appearance = describer.describe(titled, lib.get("appearance"))  # does not
    assert " shirt" in preference.text and "woven cotton" in preference.attributes.material
    assert "woven cotton" not in appearance.attributes.material
    assert "romantic" not in preference.text  # catalogue labels never leak into the description
