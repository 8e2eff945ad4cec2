"""The `simulated` provider: a stand-in LVLM that writes each item's description from its ground-truth attributes,
every facet right with probability `accuracy` and otherwise a plausible wrong value — so a demo can show the
VLM4Rec mechanism, and a sweep can show how accurate a describer must be, without a real LVLM. Not a model.

Ground truth is the item's own columns named like the facets (style, material, colour, pattern, occasion), which a
run hands every describer in the item context; the sample catalogue's are its generator's. `usage_context` has no
ground-truth column, so it is never stated. Randomness is seeded: whether a facet is right, and which wrong value
replaces it, depend on (image, facet) only, so raising the accuracy only turns wrong facets right; the wording
depends on (image, prompt, accuracy).
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import ClassVar

from core.config import SAMPLE_CATALOG_DIR
from core.describe.base import register
from core.describe.prompts import PromptVersion
from core.errors import ConfigError, VitrineError
from core.models import Attributes, Description, ImageRef

PROVIDER = "simulated"
DEFAULT_ACCURACY = 0.75
TRUTH_FACETS = ("style", "material", "colour", "pattern", "occasion")
_MODEL = re.compile(r"^simulated-p(?P<p>\d+(?:\.\d+)?)$")
_LEADS = ("A {noun}", "This {noun}", "One {noun}", "The {noun} shown")
_CLAUSES = {
    "style": ("with a {v} look", "in a {v} style", "{v} in spirit", "styled in a {v} way"),
    "material": ("made of {v}", "in {v}", "crafted from {v}", "made from {v}"),
    "colour": ("in {v}", "coloured {v}", "in a {v} shade", "in {v} tones"),
    "pattern": ("with a {v} pattern", "in a {v} design", "with a {v} finish"),
    "occasion": ("for {v} occasions", "suited to {v} plans", "a pick for {v} moments", "right for {v} settings"),
}
_PATTERN_WORDS = {"stripes": "striped", "polka dots": "polka-dot", "solid": "plain"}
_ARTICLE = re.compile(r"\b([Aa])(?= [aeiou])")  # 'a olive shade' -> 'an olive shade'


class NoGroundTruth(VitrineError):
    """The item carries none of the attribute columns the simulated describer reads."""


def model_name(accuracy: float) -> str:
    """'simulated-p0.75': the accuracy is part of the model name, so each accuracy is its own run."""
    return f"simulated-p{check_accuracy(accuracy):g}"


def accuracy_of(model: str) -> float:
    """The accuracy a model name asks for: the CLI's --model and the fake server's requests carry it this way."""
    match = _MODEL.match(model.strip())
    if not match:
        raise ConfigError(f"the simulated provider's models are named simulated-p and the accuracy (e.g. "
                          f"{model_name(DEFAULT_ACCURACY)}), not {model!r}")
    return check_accuracy(float(match["p"]))


def check_accuracy(accuracy: float) -> float:
    if not 0.0 <= accuracy <= 1.0:
        raise ConfigError(f"the simulated describer's accuracy is a probability between 0 and 1, not {accuracy}")
    return float(accuracy)


def label(accuracy: float) -> str:
    """How the simulated describer is named wherever it is offered: never as a model."""
    return f"simulated LVLM (sample ground truth, accuracy {accuracy:g})"


@cache
def _vocabulary() -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, tuple[str, ...]]]]:
    """(facet -> every value the sample catalogue uses, subtype -> facet -> the values seen on that product kind)."""
    with (SAMPLE_CATALOG_DIR / "items.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    every = {f: tuple(sorted({r[f] for r in rows})) for f in TRUTH_FACETS}
    suits = {kind: {f: tuple(sorted({r[f] for r in rows if r["subtype"] == kind})) for f in TRUTH_FACETS}
             for kind in {r["subtype"] for r in rows}}
    return every, suits


def _rng(*parts: object) -> random.Random:
    """A generator seeded by the parts' digest (Python's hash() is salted per process)."""
    return random.Random(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest())


def _stated(facet: str, truth: str, subtype: str, accuracy: float, image_sha: str) -> str:
    """The truth with probability `accuracy`, else another value of the facet: one seen on the same product kind in
    the sample catalogue where there is one (a plausible mistake), else any other."""
    rng = _rng(image_sha, facet)
    if rng.random() < accuracy:
        return truth
    every, suits = _vocabulary()
    seen = [v for v in suits.get(subtype, {}).get(facet, ()) if v != truth]
    return rng.choice(seen or [v for v in every[facet] if v != truth])


def truth_of(context: Mapping[str, str]) -> dict[str, str]:
    """The ground-truth facets an item carries (lower-cased), from its columns named like the facets."""
    return {f: v.strip().lower() for f in TRUTH_FACETS if (v := str(context.get(f) or "")).strip()}


def simulate(context: Mapping[str, str], facets: Sequence[str], max_words: int, accuracy: float, image_sha: str,
             wording_seed: str) -> tuple[str, Attributes]:
    """Text and attributes for the prompt's facets (its order, within max_words); NoGroundTruth when the item has
    none for them."""
    truth = truth_of(context)
    wanted = [f for f in facets if f in truth]
    if not wanted:
        raise NoGroundTruth(f"{label(accuracy)}: the item has no ground truth for the prompt's facets "
                            f"({', '.join(facets)}); it reads columns named {', '.join(TRUTH_FACETS)}, as the sample "
                            "catalogue has")
    subtype = str(context.get("subtype") or "").strip().lower()
    stated = {f: _stated(f, truth[f], subtype, accuracy, image_sha) for f in wanted}
    rng = _rng(image_sha, wording_seed, accuracy)
    lead = rng.choice(_LEADS).format(noun=subtype or "product")
    clauses = [rng.choice(_CLAUSES[f]).format(v=_PATTERN_WORDS.get(v, v) if f == "pattern" else v)
               for f, v in stated.items()]

    def compose(parts: list[str]) -> str:
        body = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return _ARTICLE.sub(r"\1n", f"{lead} {body}.")

    text = compose(clauses)
    while len(text.split()) > max_words and len(clauses) > 1:
        clauses.pop()
        text = compose(clauses)
    words = text.split()
    if len(words) > max_words:
        text = " ".join(words[:max_words]).rstrip(",") + "."
    return text, Attributes(**{f: [v] for f, v in stated.items()})


@register(PROVIDER, "simulated LVLM (sample ground truth, accuracy p)")
class SimulatedDescriber:
    """Describes catalogue items from their ground-truth columns with a chosen accuracy; for demos and sweeps."""

    provider: ClassVar[str] = PROVIDER
    needs_key: ClassVar[bool] = False
    key_env_var: ClassVar[str | None] = None
    supports_batch: ClassVar[bool] = False
    is_lvlm: ClassVar[bool] = False  # it reads the answers, not the image
    answerable_facets: ClassVar[tuple[str, ...]] = TRUTH_FACETS  # QA expects no usage_context: it has no truth

    def __init__(self, model: str | None = None, accuracy: float | None = None) -> None:
        from_model = accuracy_of(model) if model else None
        if accuracy is not None and from_model is not None and check_accuracy(accuracy) != from_model:
            raise ConfigError(f"model {model!r} says accuracy {from_model:g} but accuracy {accuracy:g} was given")
        self.accuracy = check_accuracy(next(a for a in (from_model, accuracy, DEFAULT_ACCURACY) if a is not None))
        self.model = model_name(self.accuracy)

    @property
    def label(self) -> str:
        return label(self.accuracy)

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        started = time.perf_counter()
        base = Description(image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=self.provider, model=self.model)
        try:
            text, attributes = simulate(image.context, prompt.facets, prompt.max_words, self.accuracy, image.sha256,
                                        prompt.hash)
        except NoGroundTruth as exc:
            return base.model_copy(update={"error": str(exc)})
        return base.model_copy(update={"text": text, "attributes": attributes,
                                       "latency_ms": (time.perf_counter() - started) * 1000})
