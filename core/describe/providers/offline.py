"""Offline describer: EfficientNet-Lite0 tags + named colours rendered as templated, preference-oriented text."""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import chain, zip_longest
from typing import ClassVar

import yaml
from PIL import Image

from core.config import DATA_DIR
from core.describe.base import register
from core.describe.prompts import PromptVersion
from core.describe.tagging import Tags, appearance, palette, tag_from
from core.errors import ConfigError
from core.models import FACETS, Attributes, Description, ImageRef
from core.nets.backend import cpu_threads
from core.nets.vision import VisionModel, default_vision_model, load_rgb

# Descriptions are keyed by model, so the tagger's revision is in it: bump it when tagging rules or phrase data change.
MODEL = "efficientnet-lite0-tagger-r2"
EARLIER = ("efficientnet-lite0-tagger",)  # earlier revisions' names, as stored connections and settings may hold them


@cache
def _pool() -> ThreadPoolExecutor:
    """Threads for the pixel analysis beside the CNN: numpy and ONNX Runtime release the GIL, so both cores work."""
    return ThreadPoolExecutor(max_workers=cpu_threads(), thread_name_prefix="vitrine-tagging")


@cache
def _phrases() -> dict:
    return yaml.safe_load((DATA_DIR / "offline_phrases.yaml").read_text(encoding="utf-8"))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _interleave(*lists: tuple[str, ...] | list[str]) -> list[str]:
    """Alternate sources so a cap keeps some of each; drop repeats."""
    merged = (p for p in chain.from_iterable(zip_longest(*lists)) if p)
    return list(dict.fromkeys(merged))


def facet_phrases(tags: Tags, context: Mapping[str, str]) -> dict[str, list[str]]:
    """Every facet's phrases, most telling first, before any prompt or word limit applies."""
    phrases = _phrases()
    usage = phrases["usage"].get(tags.usage, {})  # 'unknown' adds nothing: no guessed style or occasion
    product = tags.product
    hints = {f: getattr(product, f) if product else () for f in ("style", "material", "usage_context", "occasion")}
    colours = [c.name.lower() for c in tags.colours]
    moods = [palette().mood[tags.colours[0].name]] if tags.colours else []
    material = [context["material"].lower()] if context.get("material") else list(hints["material"])
    values = {
        "style": _interleave(usage.get("style", ()), moods, hints["style"]),
        "usage_context": _interleave(usage.get("usage_context", ()), hints["usage_context"]),
        "occasion": _interleave(usage.get("occasion", ()), hints["occasion"]),
        "material": material,
        "pattern": [tags.pattern],
        "colour": colours,
    }
    return {f: values[f][: phrases["max_phrases"][f]] for f in FACETS}


def _facet_text(facet: str, items: list[str], tags: Tags, context: Mapping[str, str], lead: bool) -> str:
    """A facet's words; after the noun (not before it) with accents, hedges and pattern phrases from the table."""
    phrases = _phrases()
    if facet == "colour" and len(items) > 1:
        accent = not lead and tags.colours[1].share < phrases["accent_below_share"]  # no accents before the noun
        return phrases["colour_accent" if accent else "colour_pair"].format(main=items[0], other=_join(items[1:]))
    if facet == "pattern" and not lead:
        return phrases["pattern"].get(items[0], items[0])
    if facet == "material" and not lead and not context.get("material"):
        return phrases["material_hedge"].format(material=_join(items))
    return _join(items)


def visible_context(context: Mapping[str, str], prompt: PromptVersion) -> dict[str, str]:
    """Only what an LVLM would see: the prompt's declared variables ('appearance' shows no title, no brand)."""
    return {k: v for k, v in context.items() if k in prompt.variables}


def _article(phrase: str) -> str:
    """'an' before a vowel sound; 'a utilitarian', 'a one-off' (the vowels that sound like 'y' or 'w')."""
    word = phrase.lower()
    return "an" if word[:1] in "aeiou" and not word.startswith(("uni", "use", "usu", "uti", "eu", "one")) else "a"


def _noun(tags: Tags, brand: str) -> str:
    """'Puma t-shirt', and 'pair of Puma sports shoes' rather than 'Puma pair of sports shoes'."""
    noun = tags.product.noun if tags.product else _phrases()["category_nouns"].get(tags.category, "item")
    if not brand:
        return noun
    pair = "pair of "
    return pair + brand + " " + noun[len(pair):] if noun.startswith(pair) else f"{brand} {noun}"


def evidence_phrases(tags: Tags) -> dict[str, list[str]]:
    """What sets this photo apart beyond the facets: its outline and the classes the classifier saw in it."""
    classes = [(name.lower(), p) for name, p in tags.evidence]
    return {"shares": [f"{c.share:.0%} {c.name.lower()}" for c in tags.colours],
            "shape": [tags.shape] if tags.shape else [],
            "classes": [f"{_article(c)} {c} ({p:.0%})" for c, p in classes]}


def render(tags: Tags, context: Mapping[str, str], prompt: PromptVersion) -> tuple[str, Attributes]:
    """Text and attributes covering only the prompt's facets, in its order, within its word limit; the
    photo's own evidence (outline, classifier classes) follows, so different photos read differently."""
    templates = _phrases()["facets"]
    extras = _phrases()["evidence"]
    noun = _noun(tags, context.get("brand", "").strip())
    all_phrases = facet_phrases(tags, context)
    chosen = {f: all_phrases[f] for f in prompt.facets if all_phrases[f]}
    chosen |= {k: v for k, v in evidence_phrases(tags).items() if v}

    def compose() -> str:
        parts = []
        for i, (facet, items) in enumerate(chosen.items()):
            if facet in extras:
                parts.append(extras[facet].format(**{facet: _or(items) if facet == "classes" else _join(items)}))
                continue
            body = _facet_text(facet, items, tags, context, lead=i == 0)
            if i == 0:
                lead = templates[facet]["lead"].format(noun=noun, **{facet: body})
                parts.append(f"{_article(lead)} {lead}")
            else:
                parts.append(templates[facet]["clause"].format(**{facet: body}))
        if not parts or next(iter(chosen)) in extras:
            parts.insert(0, f"{_article(noun)} {noun}")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    text = compose()
    while len(text.split()) > prompt.max_words and chosen:
        longest = max(reversed(chosen), key=lambda f: len(chosen[f]))  # ties: trim the later facet first
        if len(chosen[longest]) > 1:
            chosen[longest] = chosen[longest][:-1]
        else:
            chosen.pop(next(reversed(chosen)))
        text = compose()
    words = text.split()
    if len(words) > prompt.max_words:
        text = " ".join(words[: prompt.max_words]).rstrip(";,") + "."
    attributes = Attributes(**{f: all_phrases[f] for f in prompt.facets})
    return text, attributes


@register("offline", "offline tagger (EfficientNet-Lite0 + colour palette — not an LVLM)")
class OfflineDescriber:
    """Describes images without any API: CNN product-type tags, colour palette, pattern cue and item metadata."""

    provider: ClassVar[str] = "offline"
    needs_key: ClassVar[bool] = False
    key_env_var: ClassVar[str | None] = None
    supports_batch: ClassVar[bool] = False
    is_lvlm: ClassVar[bool] = False  # a CNN tagger rendering templates: no model reads the prompt

    def __init__(self, model: str = MODEL, vision: VisionModel | None = None) -> None:
        """An earlier revision's name still opens (old workspaces name it) but describes as the current revision."""
        if model != MODEL and model not in EARLIER:
            raise ConfigError(f"the offline provider only runs {MODEL!r}, not {model!r}")
        self.model = MODEL
        self._vision = vision or default_vision_model()

    def tags_many(self, images: list[ImageRef]) -> list[Tags | OSError]:
        """Tags per image with one batched CNN pass; an unreadable image yields its exception instead.

        Colours and pattern need no CNN, so they are read on a small thread pool while the CNN runs.
        """
        opened: list[Image.Image | OSError] = []
        for ref in images:
            try:
                opened.append(load_rgb(ref.path))
            except OSError as exc:
                opened.append(exc)
        good = [(ref.sha256, im) for ref, im in zip(images, opened, strict=True) if not isinstance(im, OSError)]
        looks = _pool().map(appearance, [im for _, im in good])
        probs = self._vision.analyse_keyed([k for k, _ in good], [im for _, im in good]).probs
        seen = iter(zip(looks, probs, strict=True))
        return [im if isinstance(im, OSError) else tag_from(*next(seen), ref.context)
                for ref, im in zip(images, opened, strict=True)]

    def describe_many(self, images: list[ImageRef], prompt: PromptVersion) -> list[Description]:
        start = time.perf_counter()
        refs = [ImageRef(ref.sha256, ref.path, visible_context(ref.context, prompt)) for ref in images]
        results = [tags if isinstance(tags, OSError) else render(tags, ref.context, prompt)
                   for ref, tags in zip(refs, self.tags_many(refs), strict=True)]
        latency_ms = (time.perf_counter() - start) * 1000 / max(1, len(images))  # amortised over the batch
        out = []
        for ref, result in zip(images, results, strict=True):
            base = Description(image_sha256=ref.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                               prompt_hash=prompt.hash, provider=self.provider, model=self.model, latency_ms=latency_ms)
            if isinstance(result, OSError):
                out.append(base.model_copy(update={"error": f"cannot read image {ref.path}: {result}"}))
            else:
                text, attributes = result
                out.append(base.model_copy(update={"text": text, "attributes": attributes}))
        return out

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        return self.describe_many([image], prompt)[0]
