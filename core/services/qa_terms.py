"""The words Description QA reads in titles and descriptions: product types, materials and colours (core/data).

Each vocabulary is matched longest first on word boundaries ('shirt dress' before 'shirt', never 'shirt' inside
'sweatshirt'), after blanking idioms ('dress it up'). A mention right after a pairing cue ('layering over shirts',
'with white sneakers') is about another product and is marked as a companion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import yaml

from core.config import DATA_DIR
from core.describe.tagging import palette, product_types, srgb_to_lab

# Words that put the next few words on another product: 'over shirts', 'with jeans', 'for the sofa', 'like a robe'.
# ('pair' is no cue: 'a pair of jeans' is the product; 'pairs well with jeans' has its 'with').
COMPANION_CUES = frozenset({"over", "under", "beneath", "underneath", "alongside", "atop", "beside", "besides",
                            "with", "for", "like", "unlike", "than", "matching", "complement", "complements"})
# ...except 'with' after these, where it names what the product itself is made of ('made with polyester').
MAKING_VERBS = frozenset({"made", "crafted", "constructed", "built", "woven", "knitted", "fashioned", "produced",
                          "cut", "tailored"})
CUE_WINDOW = 3  # words before a mention in which a cue counts
_CLAUSE_END = re.compile(r"[.;:!?,()]")
_SPACES = re.compile(r"[\s-]+")
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"[a-z']+")
_HYPHEN_SUFFIX = re.compile(r"-(\w+)")


@dataclass(frozen=True)
class Mention:
    """One vocabulary word found in a text, with the term it names."""

    term: str
    words: str  # as written (lowercased, spaces normalised): what a flag quotes
    start: int
    end: int
    weak: bool
    companion: bool


def _norm(words: str) -> str:
    return _SPACES.sub(" ", words.strip().lower())


def _blank(text: str, exclusions: re.Pattern[str] | None) -> str:
    """Spaces over every excluded phrase, so positions (and clause boundaries) stay where they were."""
    return exclusions.sub(lambda m: " " * len(m.group()), text) if exclusions else text


def _companion(text: str, start: int) -> bool:
    """A pairing cue within CUE_WINDOW words before `start`, in the same clause."""
    clause = text[max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0):start]
    words = _TOKEN.findall(clause)
    for i in range(max(0, len(words) - CUE_WINDOW), len(words)):
        if words[i] in COMPANION_CUES and not (words[i] == "with" and i and words[i - 1] in MAKING_VERBS):
            return True
    return False


@dataclass(frozen=True)
class Vocabulary:
    """Words -> terms, compiled into one regex; plurals ('shirts', 'dresses') are matched with their singular."""

    terms: Mapping[str, str]  # normalised word (and its plural) -> term
    weak: frozenset[str]  # normalised words with an everyday second sense
    starts: Mapping[str, re.Pattern[str]]  # first word of every entry -> where it stands as a word
    pattern: re.Pattern[str]
    exclusions: re.Pattern[str] | None  # phrases blanked before matching
    imitation_suffixes: frozenset[str]  # 'leather-look': the hyphenated suffix says it only imitates
    hyphen_modifies: bool  # 'kimono-style': a word hyphenated to a non-term modifies the next word

    @classmethod
    def build(cls, words: Mapping[str, str], weak: Iterable[str] = (), exclusions: Iterable[str] = (),
              imitation_suffixes: Iterable[str] = (), hyphen_modifies: bool = False) -> Vocabulary:
        terms: dict[str, str] = {}
        for word, term in words.items():
            terms.setdefault(_norm(word), term)
        weak_words = {_norm(w) for w in weak}
        for word, term in list(terms.items()):
            plural = word + ("es" if word.endswith(("s", "x", "z", "sh", "ch")) else "s")
            if plural not in terms:
                terms[plural] = term
                if word in weak_words:
                    weak_words.add(plural)
        alternatives = sorted(terms, key=lambda w: (-len(w), w))
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in alternatives)
                             + r")(?!\w)")
        starts = {w: re.compile(rf"(?<!\w){re.escape(w)}(?!\w)") for w in {w.split()[0] for w in terms}}
        blanked = "|".join(f"(?:{e})" for e in exclusions)
        return cls(terms, frozenset(weak_words), starts, pattern, re.compile(blanked) if blanked else None,
                   frozenset(imitation_suffixes), hyphen_modifies)

    def mentions(self, text: str) -> list[Mention]:
        """Every mention in reading order; weak and companion ones are marked, not dropped."""
        lowered = _blank(text.lower().replace("\u2019", "'"), self.exclusions)
        present = self.starts.keys() & set(_WORD.findall(lowered))  # the long pattern only runs where one starts
        found: list[Mention] = []
        end = 0
        for start in sorted(m.start() for w in present for m in self.starts[w].finditer(lowered)):
            match = self.pattern.match(lowered, start) if start >= end else None
            if match is None:
                continue
            end = match.end()
            suffix = _HYPHEN_SUFFIX.match(lowered, match.end())
            if suffix and (suffix.group(1) in self.imitation_suffixes
                           or (self.hyphen_modifies and not self.pattern.match(lowered, match.end() + 1))):
                continue
            words = _norm(match.group())
            found.append(Mention(self.terms[words], " ".join(match.group().split()), match.start(), match.end(),
                                 words in self.weak, _companion(lowered, match.start())))
        return found


@cache
def _load(name: str) -> dict:
    """A QA vocabulary file, parsed once per process (with libyaml's parser when installed: it is 10x faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((DATA_DIR / name).read_text(encoding="utf-8"), Loader=loader)


# --- product types --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """A product type as QA compares them: the tagger's type, or a category's generic noun ('shoes')."""

    name: str
    category: str
    groups: frozenset[str]
    generic: bool = False

    def compatible(self, other: Kind) -> bool:
        """Same type, a shared group, or a generic noun of the other's category."""
        if self.name == other.name or self.groups & other.groups:
            return True
        return (self.generic or other.generic) and self.category == other.category


@cache
def kinds() -> dict[str, Kind]:
    """Every kind by name: the tagger's types plus one generic kind per category with generic nouns."""
    raw = _load("qa_product_types.yaml")
    groups: dict[str, set[str]] = {}
    for group, members in raw["groups"].items():
        for name in members:
            groups.setdefault(name, set()).add(group)
    found = {name: Kind(name, t.category, frozenset(groups.get(name, ()))) for name, t in product_types().items()}
    unknown = (set(groups) | set(raw["keywords"])) - set(found)
    if unknown:
        raise ValueError(f"qa_product_types.yaml names types the tagger does not have: {sorted(unknown)}")
    return found | {category: Kind(category, category, frozenset(), generic=True) for category in raw["generic"]}


@cache
def type_vocabulary() -> Vocabulary:
    raw = _load("qa_product_types.yaml")
    words = {kw: name for name, t in product_types().items() for kw in t.keywords}
    words |= {kw: name for name, extra in raw["keywords"].items() for kw in extra}
    words |= {kw: category for category, nouns in raw["generic"].items() for kw in nouns}
    return Vocabulary.build(words, raw["weak"], raw["exclusions"], hyphen_modifies=True)


def category_holds(category: str) -> frozenset[str]:
    """Tagger categories an item filed under `category` may belong to (accessories also hold bags)."""
    return frozenset({category, *_load("qa_product_types.yaml")["category_holds"].get(category, ())})


def product_mentions(text: str) -> list[Mention]:
    """Product nouns in reading order, one per noun phrase: in 'shirt dress' the head noun, 'dress', counts.

    A weak word is no head beside a strong one ('denim jacket'), and a generic head after a specific type of its
    category keeps the type ('tote bag' is a tote).
    """
    heads: list[Mention] = []
    run: list[Mention] = []
    lowered = text.lower()
    for mention in [*type_vocabulary().mentions(text), None]:
        if mention and run and not lowered[run[-1].end:mention.start].replace("-", " ").strip():
            run.append(mention)
            continue
        if run:
            strong = [m for m in run if not m.weak] or run  # 'shirt suits': the verb is no head
            head = strong[-1]
            before = strong[-2] if len(strong) > 1 else None
            if before and kinds()[head.term].generic and kinds()[before.term].category == head.term:
                head = before
            heads.append(Mention(head.term, " ".join(m.words for m in run), run[0].start, run[-1].end,
                                 head.weak, run[0].companion))
        run = [mention] if mention else []
    return heads


# --- materials ------------------------------------------------------------------------------------

@cache
def material_vocabulary() -> Vocabulary:
    raw = _load("materials.yaml")
    return Vocabulary.build({w: m for m, words in raw["materials"].items() for w in words},
                            exclusions=raw["exclusions"], imitation_suffixes=raw["imitation_suffixes"])


@cache
def material_groups() -> dict[str, frozenset[str]]:
    """Material -> the groups it belongs to (empty for a material that matches only itself)."""
    raw = _load("materials.yaml")
    groups: dict[str, set[str]] = {m: set() for m in raw["materials"]}
    for group, members in raw["groups"].items():
        for member in members:
            if member not in groups:
                raise ValueError(f"materials.yaml: group {group!r} names unknown material {member!r}")
            groups[member].add(group)
    return {m: frozenset(g) for m, g in groups.items()}


def materials_compatible(a: str, b: str) -> bool:
    groups = material_groups()
    return a == b or bool(groups[a] & groups[b])


def material_columns() -> re.Pattern[str]:
    """Which item metadata columns name the item's material."""
    return re.compile(_load("materials.yaml")["metadata_columns"], re.IGNORECASE)


# --- colours --------------------------------------------------------------------------------------

@cache
def colour_references() -> dict[str, tuple[tuple[float, float, float], ...]]:
    """Colour word -> its reference Lab values (a palette name's prototypes, or the word's own sRGB reference)."""
    pal = palette()
    by_name = {name: pal.lab[[i for i, n in enumerate(pal.names) if n == name]] for name in dict.fromkeys(pal.names)}
    raw = _load("colour_words.yaml")
    refs = {_norm(name): lab for name, lab in by_name.items()}
    refs |= {_norm(word): by_name[name] for word, name in raw["aliases"].items()}
    refs |= {_norm(word): srgb_to_lab(np.array([rgb], np.float64)) for word, rgb in raw["references"].items()}
    return {word: tuple((float(l_), float(a), float(b)) for l_, a, b in lab) for word, lab in refs.items()}


@cache
def colour_vocabulary() -> Vocabulary:
    raw = _load("colour_words.yaml")
    return Vocabulary.build({w: w for w in colour_references()}, exclusions=raw["exclusions"],
                            imitation_suffixes=raw["imitation_suffixes"])
