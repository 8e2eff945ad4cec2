"""The offline tagger's pure logic: Lab colour naming, backdrop masking, type aggregation, rendering limits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.describe import tagging
from core.describe.prompts import PromptLibrary, PromptVersion
from core.describe.providers.offline import render
from core.describe.tagging import NamedColour, Tags
from core.models import FACETS


def probs_with(**mass: float) -> np.ndarray:
    """A softmax vector with the given mass on named ImageNet classes and the rest spread evenly."""
    classes = tagging.imagenet_classes()
    p = np.zeros(len(classes), np.float32)
    for name, m in mass.items():
        p[classes.index(name.replace("_", " "))] = m
    rest = 1.0 - p.sum()
    p[p == 0] = rest / (p == 0).sum()
    return p


def square_on(backdrop: tuple[int, int, int], colour: tuple[int, int, int], size: int = 80) -> Image.Image:
    img = Image.new("RGB", (size, size), backdrop)
    ImageDraw.Draw(img).rectangle([size // 4, size // 4, 3 * size // 4, 3 * size // 4], fill=colour)
    return img


def names_of(img: Image.Image) -> list[str]:
    rgb = tagging.analysis_pixels(img)
    return [c.name for c in tagging.dominant_colours(rgb, tagging.foreground_mask(tagging.srgb_to_lab(rgb)))]


# --- colour -----------------------------------------------------------------------------------------

def test_srgb_to_lab_matches_reference_values():
    lab = tagging.srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]]))
    np.testing.assert_allclose(lab, [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20]], atol=0.05)


@pytest.mark.parametrize(("rgb", "name"), [
    ((204, 34, 44), "Red"), ((32, 42, 82), "Navy Blue"), ((250, 250, 250), "White"), ((20, 20, 20), "Black"),
    # nearest in RGB would say Charcoal and Grey; in Lab (perceptual) they are navy and purple
    ((60, 60, 120), "Navy Blue"), ((150, 100, 160), "Purple"),
])
def test_colours_are_named_by_nearest_lab_prototype(rgb, name):
    assert tagging.name_colours(tagging.srgb_to_lab(np.array([rgb], float))) == [name]


def test_palette_has_catalogue_names():
    names = set(tagging.palette().names)
    assert len(set(names)) >= 25
    assert {"Black", "White", "Navy Blue", "Maroon", "Olive", "Beige", "Khaki", "Charcoal", "Teal"} <= names


def test_red_square_on_white_is_red_not_white():
    assert names_of(square_on((255, 255, 255), (204, 34, 44))) == ["Red"]


def test_backdrop_of_any_colour_is_masked():
    assert names_of(square_on((128, 128, 130), (242, 208, 44))) == ["Yellow"]


def test_white_product_on_white_keeps_its_body():
    """A near-white shirt with a grey outline survives the flood fill; it is not eaten as backdrop."""
    img = Image.new("RGB", (80, 80), (255, 255, 255))
    ImageDraw.Draw(img).rectangle([20, 20, 60, 60], fill=(240, 240, 240), outline=(120, 120, 120), width=2)
    mask = tagging.foreground_mask(tagging.srgb_to_lab(tagging.analysis_pixels(img)))
    assert mask[40, 40] and not mask[5, 5]
    assert names_of(img)[0] == "White"


def test_no_uniform_border_means_no_backdrop():
    img = Image.new("RGB", (60, 60))
    img.putdata([(i * 37 % 256, i * 91 % 256, i * 53 % 256) for i in range(60 * 60)])
    mask = tagging.foreground_mask(tagging.srgb_to_lab(tagging.analysis_pixels(img)))
    assert mask.all()


def test_large_images_are_shrunk_for_analysis():
    assert max(tagging.analysis_pixels(Image.new("RGB", (1200, 900))).shape[:2]) == tagging.ANALYSIS_SIDE


# --- pattern ----------------------------------------------------------------------------------------

def _cue(img: Image.Image) -> str:
    rgb = tagging.analysis_pixels(img)
    return tagging.pattern_cue(rgb, tagging.foreground_mask(tagging.srgb_to_lab(rgb)))


def test_pattern_cues_on_drawn_surfaces():
    assert _cue(square_on((255, 255, 255), (32, 42, 82))) == "solid"
    striped = Image.new("RGB", (80, 80), (255, 255, 255))
    draw = ImageDraw.Draw(striped)
    for y in range(10, 70, 6):
        draw.rectangle([10, y, 70, y + 2], fill=(32, 42, 82))
        draw.rectangle([10, y + 3, 70, y + 5], fill=(204, 34, 44))
    assert _cue(striped) == "striped"
    rng = np.random.default_rng(0)
    speckled = np.full((80, 80, 3), 255, np.uint8)
    speckled[10:70, 10:70] = rng.choice([30, 220], size=(60, 60, 1)).repeat(3, axis=2)
    assert _cue(Image.fromarray(speckled)) == "patterned"


# --- product type -----------------------------------------------------------------------------------

def test_every_mapped_class_is_a_real_imagenet_class():
    types, matrix = tagging._type_matrix()
    assert len(tagging.imagenet_classes()) == 1000
    assert matrix.shape == (len(types), 1000)
    assert matrix.sum(axis=0).max() == 1  # no class feeds two types


def test_type_mass_is_summed_over_classes_not_argmax():
    p = probs_with(jersey=0.30, Loafer=0.20, clog=0.15)
    scores = dict(tagging.type_scores(p))
    assert scores["casual shoes"] == pytest.approx(0.35, abs=1e-5)
    guess = tagging.guess_type(p)
    assert guess.product.name == "casual shoes" and guess.source == "image"  # 0.35 beats jersey's 0.30


def test_category_is_decided_before_type():
    """Shoe mass split over three shoe types beats one stronger accessory class."""
    p = probs_with(hair_slide=0.30, Loafer=0.15, sandal=0.12, running_shoe=0.10)
    assert tagging.guess_type(p).product.category == "shoes"


def test_no_product_when_mapped_mass_is_negligible():
    guess = tagging.guess_type(probs_with(tabby=0.95))
    assert guess.product is None and guess.source == "none"


def test_title_keyword_wins_but_only_within_the_known_category():
    p = probs_with(running_shoe=0.9)
    assert tagging.guess_type(p, {"title": "Classic Oxford Shirt"}).product.name == "shirt"
    assert tagging.guess_type(p, {"title": "Men's T-Shirt"}).product.name == "t-shirt"  # longest keyword
    basket = tagging.guess_type(p, {"title": "Puma Basket Shoe", "category": "Footwear"})
    assert basket.product.name == "sports shoes" and basket.source == "image"


def test_context_category_restricts_the_image_guess():
    p = probs_with(jersey=0.5, sandal=0.1)
    assert tagging.guess_type(p, {"category": "footwear"}).product.name == "sandals"


def test_usage_follows_type_and_colour():
    assert tagging.guess_usage({"suit": 1.0}, [], "solid") == "Formal"
    assert tagging.guess_usage({"cushion": 1.0}, [], "solid") == "Home"
    assert tagging.guess_usage({"saree / sarong": 1.0}, [], "patterned") == "Ethnic"
    shirt = {"shirt": 1.0}
    assert tagging.guess_usage(shirt, [NamedColour("Pink", 0.9, (234, 140, 172))], "patterned") == "Casual"


def test_usage_is_unknown_when_the_evidence_is_weak():
    """A black shirt is 55/45 casual/formal by type: a nudge from its colour is no reason to state either."""
    shirt = {"shirt": 1.0}
    assert tagging.guess_usage(shirt, [NamedColour("Black", 0.9, (28, 28, 30))], "solid") == tagging.UNKNOWN
    assert tagging.guess_usage({}, [], "solid") == tagging.UNKNOWN
    assert tagging.guess_usage({"dress": 1.0}, [], "solid") == tagging.UNKNOWN  # half casual, half dressy
    tags = Tags(tagging.product_types()["shirt"], 0.7, "image", (NamedColour("Black", 0.9, (28, 28, 30)),),
                "solid", tagging.UNKNOWN)
    text, attributes = render(tags, {}, PromptLibrary().get("preference"))
    assert "laid-back" not in text and "polished" not in attributes.style  # no usage-derived phrases
    assert attributes.style  # the type's own hints remain


def test_accessories_hint_allows_bags_socks_and_watches():
    accessories = {"category": "Accessories"}
    for classes, expected in [({"mailbag": 0.6}, "handbag"), ({"wallet": 0.5}, "wallet"),
                              ({"sock": 0.4, "jersey": 0.3}, "socks"), ({"backpack": 0.7}, "backpack"),
                              ({"sunglass": 0.8}, "sunglasses"), ({"bathing_cap": 0.4}, "cap"),
                              ({"Windsor_tie": 0.5}, "tie")]:
        assert tagging.guess_type(probs_with(**classes), accessories).product.name == expected, classes
    assert tagging.held_types("accessories") >= {"handbag", "wallet", "socks", "watch", "sunglasses", "cap",
                                                 "tie", "backpack", "belt", "shawl / stole"}


def test_an_image_only_watch_is_a_watch_not_a_clock():
    guess = tagging.guess_type(probs_with(analog_clock=0.4, magnetic_compass=0.2))
    assert guess.product.name == "watch"
    text, _ = render(Tags(guess.product, guess.score, "image", (), "solid", tagging.UNKNOWN), {},
                     PromptLibrary().get("preference"))
    assert "clock" not in text.split("resembling")[0] and "kitchen" not in text


def test_a_title_keyword_wins_over_a_conflicting_hint():
    p = probs_with(buckle=0.6)
    assert tagging.guess_type(p, {"title": "Baggit Women Brown Handbags", "category": "Apparel"}).product.name \
        == "handbag"
    assert tagging.guess_type(p, {"title": "Baggit Women Brown Handbags", "category": "Accessories"}).source == "title"
    # a weak word yields to the hint; a category noun in the title fixes the category, the image the type
    assert tagging.guess_type(probs_with(running_shoe=0.6), {"title": "Puma Basket", "category": "Footwear"}) \
        .product.name == "sports shoes"
    assert tagging.guess_type(probs_with(running_shoe=0.3, jersey=0.5), {"title": "Puma Basket Shoe"}) \
        .product.name == "sports shoes"


def test_a_hint_without_image_evidence_names_the_category_not_a_type():
    guess = tagging.guess_type(probs_with(tabby=0.95), {"category": "Accessories"})
    assert guess.product is None and guess.category == "accessories"
    tags = Tags(None, guess.score, guess.source, (), "solid", tagging.UNKNOWN, known_category=guess.category)
    assert render(tags, {}, PromptVersion(name="x", version=1, template="t", facets=["colour"]))[0] \
        .startswith("An accessory")


def test_two_different_items_read_differently():
    """Same type, same named colours and pattern: the measured shares, outline and classifier evidence differ."""
    prompt = PromptLibrary().get("preference")
    colours = (NamedColour("Navy Blue", 0.8, (32, 42, 82)), NamedColour("White", 0.2, (246, 246, 246)))
    other = (NamedColour("Navy Blue", 0.6, (32, 42, 82)), NamedColour("White", 0.4, (246, 246, 246)))
    tee = tagging.product_types()["t-shirt"]
    a = Tags(tee, 0.7, "image", colours, "solid", "Casual", (("jersey", 0.7),), "tall")
    b = Tags(tee, 0.7, "image", other, "solid", "Casual", (("jersey", 0.7),), "tall")
    c = Tags(tee, 0.7, "image", colours, "solid", "Casual", (("jersey", 0.4), ("sweatshirt", 0.2)), "square")
    texts = {render(t, {}, prompt)[0] for t in (a, b, c)}
    assert len(texts) == 3
    assert "80% navy blue" in render(a, {}, prompt)[0] and "resembling a jersey (70%)" in render(a, {}, prompt)[0]


def test_evidence_cites_only_product_classes():
    evidence = tagging.top_classes(probs_with(dumbbell=0.5, jersey=0.3, sweatshirt=0.12, cardigan=0.05))
    assert [name for name, _ in evidence] == ["jersey", "sweatshirt"]


# --- rendering under a prompt -----------------------------------------------------------------------

def _tags(product: str = "t-shirt") -> Tags:
    colours = (NamedColour("Navy Blue", 0.8, (32, 42, 82)), NamedColour("White", 0.2, (246, 246, 246)))
    return Tags(tagging.product_types()[product], 0.7, "image", colours, "solid", "Casual")


def _positions(text: str, attributes, facets: list[str]) -> list[int]:
    """Where each facet's first phrase appears in the text."""
    return [text.lower().index(attributes.facet(f)[0].split()[0]) for f in facets]


@pytest.mark.parametrize("name", ["preference", "appearance"])
def test_only_the_prompts_facets_in_its_order_within_its_word_limit(name):
    prompt = PromptLibrary().get(name)
    text, attributes = render(_tags(), {}, prompt)
    assert len(text.split()) <= prompt.max_words
    assert {f for f in FACETS if attributes.facet(f)} == set(prompt.facets)
    positions = _positions(text, attributes, prompt.facets)
    assert positions == sorted(positions)


def test_preference_and_appearance_read_differently():
    lib = PromptLibrary()
    preference, _ = render(_tags(), {}, lib.get("preference"))
    appearance, _ = render(_tags(), {}, lib.get("appearance"))
    assert preference != appearance
    assert len(preference.split()) > len(appearance.split())
    assert "weekend" in preference and "weekend" not in appearance


def test_reordered_facets_reorder_the_text():
    prompt = PromptVersion(name="x", version=1, template="t", facets=["colour", "occasion", "style"], max_words=60)
    text, attributes = render(_tags(), {}, prompt)
    assert text.startswith("A navy blue and white t-shirt")
    positions = _positions(text, attributes, prompt.facets)
    assert positions == sorted(positions)


@pytest.mark.parametrize(("first", "opening"), [
    ("style", "A laid-back, classic and relaxed t-shirt;"), ("usage_context", "A t-shirt for everyday plans"),
    ("occasion", "A t-shirt suited to weekend outings"), ("material", "A cotton jersey t-shirt;"),
    ("pattern", "A solid t-shirt;"), ("colour", "A navy blue and white t-shirt;"),
])
def test_every_facet_can_open_the_text(first, opening):
    facets = [first, *(f for f in FACETS if f != first)]
    text, _ = render(_tags(), {}, PromptVersion(name="x", version=1, template="t", facets=facets, max_words=80))
    assert text.startswith(opening)


@pytest.mark.parametrize("max_words", [5, 8, 12, 20])
def test_tight_word_limits_are_respected(max_words):
    prompt = PromptVersion(name="x", version=1, template="t", max_words=max_words)
    text, _ = render(_tags("sports shoes"), {"brand": "Puma"}, prompt)
    assert 0 < len(text.split()) <= max_words and text.endswith(".")


def test_item_metadata_shapes_the_text():
    prompt = PromptLibrary().get("preference")
    text, attributes = render(_tags("sports shoes"), {"brand": "Puma", "material": "Suede"}, prompt)
    assert "pair of Puma sports shoes" in text
    assert attributes.material == ["suede"] and "typically" not in text  # metadata is not hedged
    hedged, _ = render(_tags("sports shoes"), {}, prompt)
    assert "typically mesh" in hedged


def test_articles_follow_the_sound():
    tags = Tags(tagging.product_types()["messenger bag"], 0.5, "image",
                (NamedColour("Olive", 1.0, (104, 106, 48)),), "solid", "Casual")
    material_first = PromptVersion(name="x", version=1, template="t", facets=["material", "style"], max_words=20)
    assert render(tags, {"material": "Ultrasuede"}, material_first)[0].startswith("An ultrasuede messenger bag")
    assert render(tags, {"material": "Utility twill"}, material_first)[0].startswith("A utility twill messenger")
    colour_only = PromptVersion(name="x", version=1, template="t", facets=["colour"])
    assert render(tags, {}, colour_only)[0].startswith("An olive messenger bag;")


def test_rendering_is_deterministic():
    prompt = PromptLibrary().get("preference")
    assert render(_tags(), {}, prompt) == render(_tags(), {}, prompt)


# --- the fast paths agree with the plain ones -------------------------------------------------------

def test_byte_pixels_and_float_pixels_give_the_same_lab():
    rgb = np.random.default_rng(0).integers(0, 256, (64, 3), dtype=np.uint8)
    np.testing.assert_array_equal(tagging.srgb_to_lab(rgb), tagging.srgb_to_lab(rgb.astype(float)))


def test_kmeans_finds_weighted_cluster_centres():
    rng = np.random.default_rng(1)
    dark, light = rng.normal([30, 10, 10], 1, (200, 3)), rng.normal([80, -20, 40], 1, (100, 3))
    weights = rng.uniform(0.1, 1, 300)
    centres, labels = tagging._kmeans(np.vstack([dark, light]), weights, 2)
    assert len(set(labels[:200])) == len(set(labels[200:])) == 1 and labels[0] != labels[200]
    np.testing.assert_allclose(centres[labels[0]], np.average(dark, axis=0, weights=weights[:200]))
    np.testing.assert_allclose(centres[labels[200]], np.average(light, axis=0, weights=weights[200:]))

