"""The content flags of Description QA, each pinned by a mistake that once went unflagged."""

import pytest
from PIL import Image, ImageDraw

from core.describe.tagging import product_types
from core.models import FACETS, Attributes
from core.services import qa
from core.services.qa_flags import (
    COLOUR_DELTA_E,
    ItemFacts,
    colour_distance,
    delta_e_2000,
    described_type,
    shared_text_flags,
)
from core.services.qa_terms import colour_references

FULL = Attributes(**{f: ["something"] for f in FACETS})


@pytest.fixture
def prompt(lab):
    return lab.prompts.get("preference@v1")


def _flags(prompt, text, *, title="", category="", metadata=None, colours=()):
    return qa.auto_flags(text, FULL, prompt, colours, ItemFacts(title, category, metadata or {}))


def _kinds(flags):
    return [f.split(":")[0] for f in flags]


# --- product type against title and category -----------------------------------------------------

@pytest.mark.parametrize(("title", "text"), [
    ("Linen Shirt", "A cosy knit sweater for chilly days, made for layering over shirts; in navy."),
    ("Crew T-shirt", "A red and white kimono robe; solid, with no print; typically soft woven fabric."),
    ("Oxford Shirt", "A cosy grey sweatshirt for cool mornings."),  # 'shirt' inside 'sweatshirt' is no shirt
    ("Floral Shirt Dress", "A crisp shirt for office days."),  # the head noun of 'shirt dress' is 'dress'
])
def test_type_contradicting_the_title_is_flagged(prompt, title, text):
    assert "type contradiction" in _kinds(_flags(prompt, text, title=title, category="Apparel"))


def test_type_flag_names_both_types(prompt):
    [flag] = _flags(prompt, "A relaxed kimono robe for slow mornings at home.", title="Crew T-shirt")
    assert flag == "type contradiction: text says kimono robe; title says t-shirt"


@pytest.mark.parametrize(("title", "text"), [
    ("Linen Shirt", "A breezy linen blouse for warm office days and long lunches."),
    ("Crew T-shirt", "A soft cotton tee for weekend errands and lazy afternoons."),
    ("Crew T-shirt", "A relaxed t-shirt with kimono-style sleeves for easy weekends."),
    ("Striped Shirt Dress", "A striped dress with a shirt collar, for brunches and city strolls."),
    ("Oxford Shirt", "A crisp shirt that pairs well with jeans and a blazer for the office."),
    ("Grey Sweatshirt", "A cosy grey hoodie for cool mornings and lounging at home."),
    ("Denim Jacket", "A rugged jacket in washed denim for weekend plans."),
    ("Tan Tote Bag", "A roomy tote for market runs and beach days."),
    ("Red Sneakers", "A sporty pair of shoes for runs and gym sessions."),
    ("Puma Men's Basket White Shoe", "A laid-back pair of casual shoes for weekend strolls."),
    ("Gift Card", "A cosy knit sweater for chilly days."),  # the title names no type: nothing to contradict
    ("Linen Shirt", "Easy to dress up or down, this shirt suits any occasion."),
])
def test_compatible_or_unknown_types_are_not_flagged(prompt, title, text):
    assert "type contradiction" not in _kinds(_flags(prompt, text, title=title))


def test_type_contradicting_the_category_is_flagged_when_the_title_names_no_type(prompt):
    flags = _flags(prompt, "A practical backpack for commutes and campus days.", title="Puma Speed Cat",
                   category="Footwear")
    assert flags == ["type contradiction: text says backpack; category says shoes"]
    assert _flags(prompt, "A practical backpack for commutes and campus days.", title="Apex Day Pack",
                  category="Accessories") == []  # catalogues file bags under accessories


# --- material against title and metadata ----------------------------------------------------------

def test_material_contradicting_the_title_is_flagged(prompt):
    flags = _flags(prompt, "A practical backpack for commutes; typically durable polyester.",
                   title="Brown Leather Backpack", category="bags")
    assert flags == ["material contradiction: text says polyester; item says leather"]


def test_material_from_metadata_columns_is_used(prompt):
    text = "A chic handbag for evenings out; typically faux leather; in tan."
    flags = _flags(prompt, text, title="Heritage Handbag", metadata={"material": "suede", "brand": "Cotton World"})
    assert flags == ["material contradiction: text says faux leather; item says suede"]
    assert _flags(prompt, text, title="Heritage Handbag", metadata={"brand": "Cotton World"}) == []  # brand: no


@pytest.mark.parametrize(("title", "metadata", "text"), [
    ("Suede Loafers", {}, "A polished pair of loafers in soft leather for office days."),
    ("Canvas Sneakers", {}, "A pair of sneakers; typically leather or canvas upper."),
    ("Denim Shirt", {}, "A rugged cotton shirt for weekend plans."),
    ("Wool Sweater", {"material": "knit"}, "A cosy sweater in a soft knit for chilly days."),
    ("Linen Shirt", {}, "A linen shirt that pairs well with leather sandals and denim."),
    ("Leather Tote", {}, "A structured tote with a leather-look finish; made with leather handles."),
    ("Silk Scarf", {}, "A steel grey scarf for cool evenings."),  # a colour, not a metal
    ("Ceramic Vase", {}, "A ceramic vase for sunny windowsills; made for fresh flowers."),
])
def test_compatible_materials_and_other_senses_are_not_flagged(prompt, title, metadata, text):
    assert "material contradiction" not in _kinds(_flags(prompt, text, title=title, metadata=metadata))


def test_material_attributes_count_as_claims(prompt):
    attrs = FULL.model_copy(update={"material": ["polyester"]})
    flags = qa.auto_flags("A practical backpack for commutes and campus days.", attrs, prompt, (),
                          ItemFacts("Leather Backpack", "bags", {}))
    assert _kinds(flags) == ["material contradiction"]


# --- colour against the image, in CIELAB ----------------------------------------------------------

SKIN = (196, 152, 114)


@pytest.fixture
def black_dress(tmp_path):
    """A black dress worn by a model, drawn with Pillow: the model's skin is a tan cluster beside the black one.

    This is how the miss happened: tan skin shared a colour family with 'beige', so a beige text passed.
    """
    img = Image.new("RGB", (200, 260), (244, 243, 240))
    draw = ImageDraw.Draw(img)
    draw.ellipse((84, 2, 116, 40), fill=SKIN)  # head
    draw.rectangle((94, 36, 106, 52), fill=SKIN)  # neck
    draw.polygon([(64, 52), (56, 150), (68, 150), (76, 60)], fill=SKIN)  # arms
    draw.polygon([(136, 52), (144, 150), (132, 150), (124, 60)], fill=SKIN)
    draw.rectangle((82, 200, 94, 258), fill=SKIN)  # legs
    draw.rectangle((106, 200, 118, 258), fill=SKIN)
    draw.polygon([(74, 48), (126, 48), (130, 100), (156, 210), (44, 210), (70, 100)], fill=(24, 24, 27))
    path = tmp_path / "black-dress.png"
    img.save(path)
    return qa.dominant_image_colours(str(path))


def test_black_dress_described_as_beige_is_flagged(prompt, black_dress):
    flags = _flags(prompt, "A flowing beige dress for brunches and evenings out.", title="Black Dress",
                   colours=black_dress)
    assert _kinds(flags) == ["colour contradiction"]
    assert flags[0].startswith("colour contradiction: text says beige; image looks black (ΔE2000 ")


@pytest.mark.parametrize("colour", ["black", "charcoal", "jet black", "dark grey"])
def test_black_dress_described_as_black_or_charcoal_is_not_flagged(prompt, black_dress, colour):
    assert _flags(prompt, f"A flowing {colour} dress for brunches and evenings out.", colours=black_dress) == []


def test_colour_threshold_separates_black_from_beige_but_not_black_from_charcoal():
    assert colour_distance("black", "beige") > COLOUR_DELTA_E > colour_distance("black", "charcoal")
    assert colour_distance("white", "brown") > COLOUR_DELTA_E


def test_only_the_main_colour_is_checked_and_companion_colours_are_skipped(prompt, black_dress):
    text = "Perfect with white sneakers, this black dress has a thin red trim."
    assert _flags(prompt, text, colours=black_dress) == []


# --- the same text for many different items -------------------------------------------------------

def test_text_shared_by_many_differently_titled_items_is_flagged():
    texts = ["A black pair of casual shoes; solid.", "a black pair of casual shoes;  solid", "A black pair of "
             "casual shoes; solid.", "A red tote.", "A red tote."]
    titles = ["Speed Cat Shoe", "Basket Shoe", "Drift Loafer", "Red Tote", "Red Tote XL"]
    images = ["s1", "s2", "s3", "t1", "t2"]
    flags = shared_text_flags(texts, titles, images)
    assert flags[:3] == ["shared text: the same text describes 3 differently titled items"] * 3
    assert flags[3:] == [None, None]  # two items: below the threshold


def test_text_shared_by_items_with_the_same_title_or_image_is_not_flagged():
    texts = ["A black tee."] * 4
    assert shared_text_flags(texts, ["Black Tee"] * 4, ["a", "b", "c", "d"]) == [None] * 4
    assert shared_text_flags(texts, ["Tee S", "Tee M", "Tee L", "Tee XL"], ["a", "a", "a", "a"]) == [None] * 4


# --- vocabularies and the colour difference -------------------------------------------------------

def test_every_tagger_noun_reads_as_its_own_type():
    """The offline tagger's nouns ('kimono robe', 'pair of sports shoes') are read back as the type it meant, except
    the weak words a description may use in another sense ('suits any occasion', 'a wardrobe staple')."""
    unread = set()
    for name, product in product_types().items():
        said = described_type(f"A {product.noun} for everyday plans.")
        assert said is None or said.term == name, (name, product.noun, said)
        if said is None:
            unread.add(product.noun)
    assert unread == {"suit", "tie", "table", "basket", "glass", "bed", "ball", "cap"}


def test_colour_aliases_name_palette_colours_and_every_word_has_a_reference():
    refs = colour_references()
    assert {"black", "navy", "navy blue", "burgundy", "off white", "charcoal"} <= set(refs)
    assert all(len(lab) and len(lab[0]) == 3 for lab in refs.values())


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [  # Sharma, Wu & Dalal (2005), table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 0.0, 0.0), (50.0, 0.0, 0.0), 0.0),
])
def test_delta_e_2000_matches_the_published_test_data(lab1, lab2, expected):
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert delta_e_2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)
