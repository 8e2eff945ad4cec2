"""Seeded, realistic product descriptions for the encoding benchmarks, built from the offline phrase tables.

Half are the offline describer's own output (core.describe.providers.offline.render over random tags), half are
longer LVLM-style paragraphs (the shape a hosted model returns under the `preference` prompt).
"""

from __future__ import annotations

import random

from core.describe.prompts import PromptLibrary
from core.describe.providers.offline import render
from core.describe.tagging import USAGES, NamedColour, Tags, palette, product_types

PATTERNS = ("solid", "striped", "patterned")
_OPENERS = ("This", "A", "The")
_WHO = ("a shopper who values comfort", "someone building a capsule wardrobe", "a city commuter",
        "a weekend traveller", "a young professional", "a gift buyer", "a home-proud host", "an active runner")


def _tags(rng: random.Random) -> Tags:
    product = rng.choice(list(product_types().values()))
    names = sorted(set(palette().names))
    first, second = rng.sample(names, 2)
    share = rng.uniform(0.55, 0.95)
    colours = (NamedColour(first, share, (0, 0, 0)),) + ((NamedColour(second, 1 - share, (0, 0, 0)),)
                                                          if rng.random() < 0.6 else ())
    return Tags(product, rng.uniform(0.2, 0.9), "image", colours, rng.choice(PATTERNS), rng.choice(USAGES))


def _lvlm_paragraph(rng: random.Random, tags: Tags) -> str:
    """A 40-90 word paragraph in the order the preference prompt asks for."""
    p = tags.product
    colours = " and ".join(c.name.lower() for c in tags.colours)
    mood = palette().mood[tags.colours[0].name]
    sentences = [
        f"{rng.choice(_OPENERS)} {mood} {rng.choice(p.style)} {p.noun} suits {rng.choice(_WHO)}.",
        f"It works well for {rng.choice(p.usage_context)} and feels right for {rng.choice(p.occasion)}.",
        f"Made from {rng.choice(p.material)}, it has a {tags.pattern} look in {colours}.",
        f"The {tags.usage.lower()} character makes it easy to pair with {rng.choice(p.style)} pieces.",
        f"Expect a {rng.choice(('relaxed', 'neat', 'structured', 'soft'))} fit and a "
        f"{rng.choice(('matte', 'subtle sheen', 'textured', 'smooth'))} finish that wears well over time.",
    ]
    return " ".join(sentences[: rng.randint(3, 5)])


def descriptions(n: int, seed: int = 5) -> list[str]:
    """n descriptions, deterministic for a seed."""
    rng = random.Random(seed)
    prompts = [PromptLibrary().get(name) for name in ("preference", "appearance")]
    out = []
    for i in range(n):
        tags = _tags(rng)
        if i % 2:
            out.append(_lvlm_paragraph(rng, tags))
        else:
            out.append(render(tags, {"title": tags.product.name}, prompts[i // 2 % 2])[0])
    return out
