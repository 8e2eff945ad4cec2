"""Description QA's automatic flags: each rule points a reviewer at one kind of mistake a describer makes.

A description is checked against its own item (title, category, metadata), its image's colours and the other
descriptions of the catalogue. Every rule stays silent when it lacks the facts to judge: a title naming no product
type, an item naming no material, an image without analysed colours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from core.describe.prompts import PromptVersion
from core.describe.registry import provider_class
from core.describe.tagging import NamedColour, resolve_category, srgb_to_lab
from core.errors import ConfigError
from core.models import FACETS, Attributes
from core.services.qa_terms import (
    Kind,
    Mention,
    category_holds,
    colour_references,
    colour_vocabulary,
    kinds,
    material_columns,
    material_vocabulary,
    materials_compatible,
    product_mentions,
)

MIN_WORDS = 5
REFUSALS = ("i'm sorry", "i am sorry", "i can't", "i cannot", "as an ai", "unable to", "i apologize",
            "i apologise", "i'm not able", "i am not able", "cannot assist", "can't help with")
# CIEDE2000 distance between a named colour's reference and the nearest major image colour above which the text
# contradicts the image. Between references: black-beige 65, black-white 75, white-brown 52, black-red 36 are
# flagged; black-charcoal 14, black-navy 9, navy-blue 21, red-pink 30, tan-brown 31 are not. Chosen on the even-id
# half of ../shared/real_products (BENCHMARKS.md, qa-flags): the most clear mistakes caught while a photo's own
# catalogue colour is flagged for at most 3% of photos.
COLOUR_DELTA_E = 35.0
MAJOR_COLOUR_SHARE = 0.25  # smaller image colours (a model's skin, a logo, the sole) cannot vouch for a colour word
SHARED_TEXT_MIN_ITEMS = 3  # distinct titles (on distinct images) sharing one text before it is flagged


@dataclass(frozen=True)
class ItemFacts:
    """What the catalogue says about the described item: what its description must not contradict."""

    title: str = ""
    category: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


# --- colour distance ------------------------------------------------------------------------------

Lab = tuple[float, float, float]


def delta_e_2000(lab1: Lab, lab2: Lab) -> float:
    """CIEDE2000 colour difference of two CIELAB colours (Sharma, Wu & Dalal 2005).

    CIE76 overstates differences among saturated colours and understates them among darks; ΔE2000 tracks what a
    shopper would call a different colour. Scalar on purpose: QA compares a few pairs per row, where numpy's
    per-call overhead costs more than the arithmetic.
    """
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c7 = ((math.hypot(a1, b1) + math.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - math.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dh = h2p - h1p
    dh = 0.0 if c1p * c2p == 0 else dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    big_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, c_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    if c1p * c2p == 0:
        h_bar = h_sum
    elif abs(h1p - h2p) <= 180:
        h_bar = h_sum / 2
    else:
        h_bar = (h_sum + 360) / 2 if h_sum < 360 else (h_sum - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar
    s_h = 1 + 0.015 * c_bar * t
    r_t = (-2 * math.sqrt(c_bar**7 / (c_bar**7 + 25.0**7))
           * math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2)))))
    dl, dc = (l2 - l1) / s_l, (c2p - c1p) / s_c
    dh_term = big_h / s_h
    return math.sqrt(dl**2 + dc**2 + dh_term**2 + r_t * dc * dh_term)


def _nearest(references: Sequence[Lab], colours: Sequence[Lab]) -> float:
    return min(delta_e_2000(r, c) for r in references for c in colours)


def colour_distance(word: str, other: str) -> float:
    """ΔE2000 between the closest reference values of two colour words ('black', 'navy blue')."""
    refs = colour_references()
    return _nearest(refs[word], refs[other])


@lru_cache(maxsize=65536)
def _lab(rgb: tuple[int, int, int]) -> Lab:
    l_, a, b = srgb_to_lab(np.array(rgb, np.float64)).tolist()
    return l_, a, b


# --- what a text names ----------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def _colour_mentions(text: str) -> tuple[Mention, ...]:
    return tuple(colour_vocabulary().mentions(text))


def colour_words(text: str) -> list[str]:
    """Colour words the text names, in order of first appearance."""
    return list(dict.fromkeys(m.term for m in _colour_mentions(text)))


def _own(mentions: list[Mention]) -> list[Mention]:
    """Mentions about the product itself: not a companion ('over shirts'), and strong ones when there are any."""
    own = [m for m in mentions if not m.companion]
    return [m for m in own if not m.weak] or own


@lru_cache(maxsize=8192)
def _title_kinds(title: str, category: str | None) -> tuple[tuple[str, Kind], ...]:
    """(words, kind) for each product type the title names that its category can hold ('Basket Shoe' is a shoe)."""
    held = category_holds(category) if category else None
    named = [(m.words, kinds()[m.term]) for m in _own(product_mentions(title))]
    return tuple((w, k) for w, k in named if held is None or k.category in held)


@lru_cache(maxsize=8192)
def _materials_in(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.term for m in material_vocabulary().mentions(text) if not m.companion))


def item_materials(item: ItemFacts) -> tuple[str, ...]:
    """Materials the title and the material-like metadata columns name (a brand or a lining says nothing)."""
    columns = material_columns()
    sources = [item.title, *(str(v) for k, v in item.metadata.items() if columns.search(k) and v)]
    return tuple(dict.fromkeys(m for source in sources for m in _materials_in(source)))


# --- the rules ------------------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def described_type(text: str) -> Mention | None:
    """The product a text describes: its first product noun that is neither weak nor a companion."""
    return next((m for m in product_mentions(text) if not m.weak and not m.companion), None)


def main_colour(text: str) -> Mention | None:
    """The colour a text gives the product: its first colour word that is not about a companion."""
    return next((m for m in _colour_mentions(text) if not m.companion), None)


def claimed_materials(text: str, attributes: Attributes) -> list[str]:
    """Materials a description says the product is made of, in its text and its material attribute."""
    return list(dict.fromkeys([*_materials_in(text), *(m for v in attributes.material for m in _materials_in(v))]))


def text_key(text: str) -> str:
    """A text as compared for sharing: case, spacing and punctuation ignored."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def type_flag(text: str, item: ItemFacts) -> str | None:
    """The text's product against the types the title names, else against the item's category."""
    said = described_type(text)
    if said is None:
        return None
    kind = kinds()[said.term]
    category = resolve_category(item.category)
    titled = _title_kinds(item.title, category)
    if titled:
        if any(kind.compatible(k) for _, k in titled):
            return None
        named = ", ".join(dict.fromkeys(w for w, _ in titled))
        return f"type contradiction: text says {said.words}; title says {named}"
    if category and kind.category not in category_holds(category):
        return f"type contradiction: text says {said.words}; category says {category}"
    return None


def material_flag(text: str, attributes: Attributes, item: ItemFacts) -> str | None:
    """Materials the description claims (text and material attribute) when none fits what the item is made of."""
    known = item_materials(item)
    if not known:
        return None
    claimed = claimed_materials(text, attributes)
    if not claimed or any(materials_compatible(c, k) for c in claimed for k in known):
        return None
    return f"material contradiction: text says {', '.join(claimed)}; item says {', '.join(known)}"


def _major_colours(colours: Sequence[str | NamedColour], major_share: float) -> tuple[list[Lab], list[str]]:
    """Lab values and names of the image's major colours; a bare name stands for its palette prototypes."""
    named = [c for c in colours if isinstance(c, NamedColour)]
    major = [c for c in named if c.share >= major_share] or named[:1]
    refs = colour_references()
    bare = [c.lower() for c in colours if isinstance(c, str) and c.lower() in refs]
    labs = [_lab(c.rgb) for c in major] + [lab for name in bare for lab in refs[name]]
    return labs, [c.name.lower() for c in major] + bare


@dataclass(frozen=True)
class ColourGap:
    """How far the text's main colour is from the nearest major colour of the image."""

    words: str
    distance: float
    image: tuple[str, ...]


def colour_gap(text: str, colours: Sequence[str | NamedColour],
               major_share: float = MAJOR_COLOUR_SHARE) -> ColourGap | None:
    """The text's main colour (its first own colour word) against the image's major colours, in ΔE2000."""
    main = main_colour(text)
    labs, names = _major_colours(colours, major_share)
    if main is None or not labs:
        return None
    return ColourGap(main.words, _nearest(colour_references()[main.term], labs), tuple(names))


def colour_flag(text: str, colours: Sequence[str | NamedColour]) -> str | None:
    """A main colour farther than COLOUR_DELTA_E from every major image colour contradicts the image."""
    gap = colour_gap(text, colours)
    if gap is None or gap.distance <= COLOUR_DELTA_E:
        return None
    return (f"colour contradiction: text says {gap.words}; image looks {', '.join(gap.image)} "
            f"(ΔE2000 {gap.distance:.0f} > {COLOUR_DELTA_E:g})")


@lru_cache(maxsize=64)
def answerable_facets(provider: str | None) -> frozenset[str]:
    """The facets a provider's describer can state, from its class's `answerable_facets` (every facet when it
    declares none, or is not registered): leaving out a facet it has no means to know is no mistake to review."""
    try:
        cls = provider_class(provider) if provider else None
    except ConfigError:
        cls = None
    return frozenset(getattr(cls, "answerable_facets", FACETS))


def auto_flags(text: str, attributes: Attributes, prompt: PromptVersion | None,
               dominant_colour_names: Sequence[str | NamedColour], item: ItemFacts | None = None,
               provider: str | None = None) -> list[str]:
    """Reasons a description looks suspicious; [] when it looks fine.

    A facet holding only 'unknown' counts as missing; a facet the provider cannot state is not expected of it. The
    colour check is skipped without image colours (dominant_colour_names: the image's analysed colours, or bare
    palette names); the type and material checks without the item's facts.
    """
    flags = []
    n_words = len(text.split())
    if n_words == 0:
        flags.append("empty text")
    elif n_words < MIN_WORDS:
        flags.append(f"very short text ({n_words} word{'s' if n_words > 1 else ''})")
    if prompt is not None:
        expected = [f for f in prompt.facets if f in answerable_facets(provider)]
        missing = [f for f in expected if not [v for v in attributes.facet(f) if v != "unknown"]]
        if missing:
            flags.append(f"missing facets: {', '.join(missing)}")
    lowered = text.lower().replace("\u2019", "'")
    refusals = [r for r in REFUSALS if r in lowered]
    if refusals:
        flags.append(f"refusal text: {', '.join(repr(r) for r in refusals)}")
    content = [type_flag(text, item), material_flag(text, attributes, item)] if item else []
    return flags + [f for f in [*content, colour_flag(text, dominant_colour_names)] if f]


def shared_text_flags(texts: Sequence[str], titles: Sequence[str], images: Sequence[str]) -> list[str | None]:
    """A flag for each text (normalised: case, spacing, punctuation) describing SHARED_TEXT_MIN_ITEMS or more
    differently titled items on different images: a text that fits them all tells a shopper nothing about any."""
    keys = [text_key(t) for t in texts]
    titles_by_image: dict[str, dict[str, str]] = {}
    for key, title, image in zip(keys, titles, images, strict=True):
        if key:
            titles_by_image.setdefault(key, {}).setdefault(image, text_key(title))
    counts = {key: len(set(by_image.values())) for key, by_image in titles_by_image.items()}
    return [f"shared text: the same text describes {counts[k]} differently titled items"
            if k and counts[k] >= SHARED_TEXT_MIN_ITEMS else None for k in keys]
