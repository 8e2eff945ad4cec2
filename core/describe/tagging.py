"""Pure tagging logic for the offline describer: product type, named colours, pattern cue and usage.

Data files (core/data/):
- imagenet_classes.txt: the 1000 ImageNet-1k class names in model index order, one per line: the first
  lemma of each synset, from timm 1.0.31 (timm/data/_info/imagenet_synsets.txt joined with
  imagenet_synset_to_lemma.txt). 'crane' and 'maillot' each name two classes, as in every ImageNet list.
- imagenet_product_types.yaml: ImageNet classes -> product types, with per-type hints.
- colours.yaml: the named-colour palette (matched in CIELAB).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import yaml
from PIL import Image

from core.config import DATA_DIR

USAGES: tuple[str, ...] = ("Casual", "Sports", "Formal", "Ethnic", "Party", "Home")
UNKNOWN = "unknown"
MIN_TYPE_MASS = 0.05  # below this much softmax mass on a whole category, the image shows no known product
ANALYSIS_SIDE = 96  # colour and pattern need no more pixels than this on the longer side
BACKGROUND_DELTA_E = 5.0  # CIE76 distance to the backdrop colour: JPEG-noise level; more eats white products
UNIFORM_BORDER_SHARE = 0.6  # a backdrop exists only if this share of the border matches its median
MIN_COLOUR_SHARE = 0.08
CENTRE_SIGMA = 0.3  # width of the centre weighting, as a fraction of each image side
PATTERN_WINDOW = 0.5  # central share of each side in which the pattern cue looks
EDGE_STEP = 8.0  # L* change between neighbouring pixels that counts as an edge
PATTERN_EDGE_SHARE = 0.25  # share of edge pixels above which a surface reads as patterned
USAGE_MIN_SHARE = 0.6  # a usage is said only when it holds this share of the usage score; else 'unknown'
SHAPE_RATIO = 1.3  # bounding-box height / width beyond which an outline reads as tall (or, inverted, wide)
EVIDENCE_CLASSES = 3  # classifier classes a description may cite as what the image resembles
EVIDENCE_MIN_PROB = 0.1  # a class cited as evidence holds at least this probability


@dataclass(frozen=True)
class ProductType:
    """A merchandising product type and the hints a merchandiser attaches to it."""

    name: str
    noun: str  # how the type reads after an article: 'pair of sports shoes', 'coat'
    category: str
    classes: tuple[str, ...]
    keywords: tuple[str, ...]
    usage: Mapping[str, float]
    style: tuple[str, ...]
    material: tuple[str, ...]
    usage_context: tuple[str, ...]
    occasion: tuple[str, ...]


@dataclass(frozen=True)
class NamedColour:
    name: str
    share: float
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class Tags:
    """Everything the tagger read off one image (and its optional item context)."""

    product: ProductType | None
    type_score: float
    type_source: str  # "image", "title" or "none"
    colours: tuple[NamedColour, ...]
    pattern: str
    usage: str  # one of USAGES, or UNKNOWN when the evidence does not settle it
    evidence: tuple[tuple[str, float], ...] = ()  # the classifier's top ImageNet classes and probabilities
    shape: str = ""  # the foreground's outline ('tall', 'wide', 'square'); '' when there is no backdrop
    known_category: str | None = None  # from the item's category or title, when no type could be read

    @property
    def product_type(self) -> str:
        return self.product.name if self.product else "item"

    @property
    def category(self) -> str:
        return self.product.category if self.product else (self.known_category or "unknown")


@dataclass(frozen=True)
class Palette:
    """Named colours; a name may own several Lab prototypes (royal, denim and sky blue are all 'Blue')."""

    names: tuple[str, ...]  # one per prototype row
    lab: np.ndarray  # (prototypes, 3)
    mood: Mapping[str, str]
    lean: Mapping[str, Mapping[str, float]]


@cache  # read-only tables: parsing them per image (title_head) made tagging ~30x slower than its CNN
def _load_yaml(name: str) -> dict:
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


@cache
def imagenet_classes() -> tuple[str, ...]:
    return tuple((DATA_DIR / "imagenet_classes.txt").read_text(encoding="utf-8").splitlines())


@cache
def product_types() -> dict[str, ProductType]:
    raw = _load_yaml("imagenet_product_types.yaml")["types"]
    return {
        name: ProductType(
            name=name, noun=spec.get("noun", name), category=spec["category"], classes=tuple(spec["classes"]),
            keywords=tuple(k.lower() for k in spec["keywords"]), usage=dict(spec["usage"]),
            **{f: tuple(spec[f]) for f in ("style", "material", "usage_context", "occasion")},
        )
        for name, spec in raw.items()
    }


@cache
def _category_aliases() -> dict[str, str]:
    raw = _load_yaml("imagenet_product_types.yaml")["category_aliases"]
    return {alias: category for category, aliases in raw.items() for alias in aliases}


@cache
def _type_matrix() -> tuple[tuple[str, ...], np.ndarray]:
    """(types, M) with M[t, c] = 1 when ImageNet class c belongs to type t; probs @ M.T sums mass per type."""
    classes = imagenet_classes()
    index: dict[str, list[int]] = {}
    for i, name in enumerate(classes):
        index.setdefault(name, []).append(i)  # duplicated names ('maillot') map every index
    types = tuple(product_types())
    matrix = np.zeros((len(types), len(classes)), np.float32)
    for t, name in enumerate(types):
        for cls in product_types()[name].classes:
            if cls not in index:
                raise ValueError(f"imagenet_product_types.yaml: {name!r} maps unknown ImageNet class {cls!r}")
            matrix[t, index[cls]] = 1.0
    return types, matrix


@cache
def palette() -> Palette:
    raw = _load_yaml("colours.yaml")
    prototypes = [(name, rgb) for name, spec in raw.items()
                  for rgb in (spec["rgb"] if isinstance(spec["rgb"][0], list) else [spec["rgb"]])]
    return Palette(tuple(n for n, _ in prototypes), srgb_to_lab(np.array([c for _, c in prototypes], np.float64)),
                   {n: raw[n]["mood"] for n in raw}, {n: raw[n]["lean"] or {} for n in raw})


# --- product type ---------------------------------------------------------------------------------

def resolve_category(text: str | None) -> str | None:
    """Map a catalogue category ('Footwear', 'Home decor') onto a tagger category, if recognisable."""
    return _category_aliases().get((text or "").strip().lower())


def type_scores(probs: np.ndarray) -> list[tuple[str, float]]:
    """Softmax mass per product type (summed over its classes), best first."""
    types, matrix = _type_matrix()
    mass = matrix @ np.asarray(probs, np.float32)
    return sorted(zip(types, mass.tolist(), strict=True), key=lambda tm: -tm[1])


@cache
def held_types(category: str) -> frozenset[str]:
    """Tagger types an item filed under `category` may be: its own, plus those category_holds adds."""
    raw = _load_yaml("imagenet_product_types.yaml").get("category_holds", {}).get(category, [])
    categories = {category, *(e for e in raw if e not in product_types())}
    return frozenset({n for n, t in product_types().items() if t.category in categories}
                     | {e for e in raw if e in product_types()})


@dataclass(frozen=True)
class TitleHead:
    """What a title's head noun names: a type, or only a category ('Puma Basket Shoe' names shoes)."""

    category: str
    product: ProductType | None
    weak: bool  # a word with an everyday sense ('basket', 'tie'): it yields to a category hint


def title_head(title: str | None) -> TitleHead | None:
    """The noun named last (head nouns come last: 'Oxford Shirt'); on a tie the longer keyword ('t-shirt')."""
    text = (title or "").lower()
    raw = _load_yaml("imagenet_product_types.yaml")
    weak = set(raw.get("weak_keywords", ()))
    candidates: list[tuple[str, str, ProductType | None]] = [
        (kw, p.category, p) for p in product_types().values() for kw in p.keywords]
    candidates += [(kw, c, None) for c, nouns in raw.get("category_nouns", {}).items() for kw in nouns]
    best: tuple[int, int, TitleHead] | None = None
    for kw, category, product in candidates:
        if kw not in text:  # the substring test skips most regexes
            continue
        for match in re.finditer(rf"\b{re.escape(kw)}\b", text):
            if best is None or (match.end(), len(kw)) > best[:2]:
                best = (match.end(), len(kw), TitleHead(category, product, kw in weak))
    return best[2] if best else None


@dataclass(frozen=True)
class TypeGuess:
    product: ProductType | None
    score: float
    source: str  # "image", "title" or "none"
    posterior: Mapping[str, float]  # type name -> probability within the chosen category (sums to 1)
    category: str | None = None  # known from a hint or title even when no type is


def guess_type(probs: np.ndarray, context: Mapping[str, str] | None = None) -> TypeGuess:
    """A title's head noun wins, even over a conflicting category hint (unless the word is weak); else the
    likeliest category among those the hint or title allows, then its type."""
    context = context or {}
    hint = resolve_category(context.get("category"))
    head = title_head(context.get("title"))
    allowed = held_types(hint) if hint else None
    if head and not (head.weak and allowed is not None and (head.product is None or head.product.name not in allowed)):
        if head.product:
            return TypeGuess(head.product, 1.0, "title", {head.product.name: 1.0}, head.product.category)
        hint, allowed = head.category, held_types(head.category)
    ranked = [(t, m) for t, m in type_scores(probs) if allowed is None or t in allowed]
    mass: dict[str, float] = {}
    for name, m in ranked:
        category = product_types()[name].category
        mass[category] = mass.get(category, 0.0) + m
    # Category first (shoe mass split over clog, Loafer and sandal still beats one hair-slide class), then type.
    category = max(mass, key=mass.__getitem__)
    total = mass[category]
    if total < MIN_TYPE_MASS:  # nothing the image shows is a known product: say only what the hint says
        return TypeGuess(None, round(total, 4), "none", {}, hint)
    within = [(t, m) for t, m in ranked if product_types()[t].category == category]
    return TypeGuess(product_types()[within[0][0]], round(within[0][1], 4), "image",
                     {t: m / total for t, m in within if m > 0}, category)


# --- colour ---------------------------------------------------------------------------------------

def _linearise(c: np.ndarray) -> np.ndarray:
    """sRGB companding undone: 0..1 -> linear light."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_U8 = _linearise(np.arange(256) / 255.0)  # the same values, looked up: pixels are bytes


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..255, any leading shape) -> CIELAB under D65."""
    rgb = np.asarray(rgb)
    linear = _LINEAR_U8[rgb] if rgb.dtype == np.uint8 else _linearise(rgb.astype(np.float64) / 255.0)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def name_colours(lab: np.ndarray) -> list[str]:
    """Nearest palette name (CIE76 distance in Lab) for each Lab row."""
    pal = palette()
    dist = np.linalg.norm(np.asarray(lab, np.float64)[:, None, :] - pal.lab[None], axis=-1)
    return [pal.names[i] for i in dist.argmin(axis=1)]


def analysis_pixels(image: Image.Image) -> np.ndarray:
    """RGB array shrunk (box filter, which also averages JPEG noise) to at most ANALYSIS_SIDE pixels a side."""
    img = image.convert("RGB")
    scale = ANALYSIS_SIDE / max(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BOX)
    return np.asarray(img)


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def foreground_mask(lab: np.ndarray) -> np.ndarray:
    """Pixels not connected to the border through backdrop-coloured pixels; all pixels when there is no backdrop.

    Flood-filling from the border (rather than thresholding every pixel) keeps a white shirt on a white
    backdrop: its outline and shading stop the fill.
    """
    backdrop = np.median(_border(lab), axis=0)
    close = np.linalg.norm(lab - backdrop, axis=-1) < BACKGROUND_DELTA_E
    if _border(close).mean() < UNIFORM_BORDER_SHARE:
        return np.ones(close.shape, bool)
    reached = np.zeros_like(close)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = close[0], close[-1], close[:, 0], close[:, -1]
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= close
        if np.array_equal(grown, reached):
            break
        reached = grown
    foreground = ~reached
    return foreground if foreground.mean() >= 0.02 else np.ones(close.shape, bool)


def centre_weights(mask: np.ndarray) -> np.ndarray:
    """Foreground pixels weighted by a centred Gaussian: product photos frame the product in the middle."""
    h, w = mask.shape
    y = (np.arange(h) - (h - 1) / 2) / (CENTRE_SIGMA * h)
    x = (np.arange(w) - (w - 1) / 2) / (CENTRE_SIGMA * w)
    return mask * np.exp(-0.5 * (y[:, None] ** 2 + x[None, :] ** 2))


def _kmeans(points: np.ndarray, weights: np.ndarray, k: int, iterations: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic weighted Lloyd's k-means; centres start at lightness quantiles. Returns (centres, labels).

    Distances are compared as |c|^2 - 2 p.c (|p|^2 is the same for every centre), one matrix product per
    round; it stops early once the labels repeat, as the centres would then repeat too.
    """
    order = np.argsort(points[:, 0], kind="stable")
    centres = points[order[((np.arange(k) + 0.5) / k * len(points)).astype(int)]].copy()
    weighted = points * weights[:, None]
    labels = np.full(len(points), -1)
    for _ in range(iterations):
        nearest = ((centres**2).sum(axis=1) - 2 * points @ centres.T).argmin(axis=1)
        if np.array_equal(nearest, labels):
            break
        labels = nearest
        mass = np.bincount(labels, weights, minlength=k)
        sums = np.stack([np.bincount(labels, weighted[:, d], minlength=k) for d in range(points.shape[1])], axis=1)
        filled = mass > 0
        centres[filled] = sums[filled] / mass[filled, None]
    return centres, labels


def _rgb(mean: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in mean)
    return r, g, b


def dominant_colours(rgb: np.ndarray, mask: np.ndarray | None = None, k: int = 4, *,
                     lab: np.ndarray | None = None) -> list[NamedColour]:
    """Named colours of the (foreground, centre-weighted) pixels, largest share first; clusters are named.

    lab: srgb_to_lab(rgb), when the caller has it already.
    """
    weights = centre_weights(np.ones(rgb.shape[:2], bool) if mask is None else mask)
    keep = weights > 0
    lab = srgb_to_lab(rgb) if lab is None else lab
    points, pixels, w = lab[keep], rgb[keep].astype(np.float64), weights[keep]
    centres, labels = _kmeans(points, w, min(k, len(points)))
    members: dict[str, np.ndarray] = {}
    for j, name in enumerate(name_colours(centres)):
        members[name] = members.get(name, np.zeros(len(points), bool)) | (labels == j)
    shares = {name: w[m].sum() / w.sum() for name, m in members.items()}
    colours = [
        NamedColour(name, round(float(shares[name]), 4),
                    _rgb(np.average(pixels[m], axis=0, weights=w[m])))
        for name, m in members.items() if shares[name] >= MIN_COLOUR_SHARE
    ]
    return sorted(colours, key=lambda c: -c.share)


# --- pattern --------------------------------------------------------------------------------------

def _periodic(profile: np.ndarray) -> bool:
    """A 1-D lightness profile repeats: its autocorrelation dips below zero and then peaks again strongly."""
    if len(profile) < 12 or profile.std() < 4.0:
        return False
    x = profile - np.polyval(np.polyfit(np.arange(len(profile)), profile, 1), np.arange(len(profile)))
    ac = np.correlate(x, x, "full")[len(x) - 1:]
    ac = ac / ac[0] if ac[0] > 0 else ac
    negative = np.flatnonzero(ac < 0)
    if not len(negative):
        return False
    tail = ac[negative[0]:len(x) // 3 + 1]
    return len(tail) > 0 and tail.max() > 0.4


def _profile(lightness: np.ndarray, inner: np.ndarray, axis: int) -> np.ndarray:
    """Mean lightness of the inner pixels along each row (axis=1) or column (axis=0) holding at least 3 of them."""
    counts = inner.sum(axis=axis)
    sums = np.where(inner, lightness, 0.0).sum(axis=axis)
    return sums[counts >= 3] / counts[counts >= 3]


def pattern_cue(rgb: np.ndarray, mask: np.ndarray, *, lab: np.ndarray | None = None) -> str:
    """'striped', 'patterned' or 'solid' from the product's central body; modest by design.

    Only the central window counts (a worn garment's torso, a shoe's upper), so faces, limbs and the
    silhouette's outline are not mistaken for print. lab: srgb_to_lab(rgb), when the caller has it already.
    """
    h, w = mask.shape
    top, left = round(h * (1 - PATTERN_WINDOW) / 2), round(w * (1 - PATTERN_WINDOW) / 2)
    window = np.zeros_like(mask)
    window[top:h - top, left:w - left] = True
    inner = mask & window
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]  # erode once
    if inner.sum() < 30:
        return "solid"
    lightness = (srgb_to_lab(rgb) if lab is None else lab)[..., 0]
    if _periodic(_profile(lightness, inner, axis=1)) or _periodic(_profile(lightness, inner, axis=0)):
        return "striped"
    gy, gx = np.gradient(lightness)
    return "patterned" if (np.hypot(gx, gy)[inner] > EDGE_STEP).mean() > PATTERN_EDGE_SHARE else "solid"


# --- usage and the whole tag set ------------------------------------------------------------------

def guess_usage(posterior: Mapping[str, float], colours: list[NamedColour], pattern: str) -> str:
    """Usage prior averaged over the type posterior (not just the top type), nudged by colour leans;
    UNKNOWN unless one usage holds USAGE_MIN_SHARE of the score (a guess would read as a fact)."""
    score = dict.fromkeys(USAGES, 0.0)
    for name, p in posterior.items():
        prior = product_types()[name].usage
        total = sum(prior.values()) or 1.0
        for usage, weight in prior.items():
            score[usage] += p * weight / total
    if not any(score.values()):
        return UNKNOWN
    lean = palette().lean
    for colour in colours:
        for usage, weight in lean[colour.name].items():
            if score[usage] > 0:  # a colour cannot invent a usage the type never has
                score[usage] += weight * colour.share
    if pattern != "solid" and score["Casual"] > 0:
        score["Casual"] += 0.1
    best = max(USAGES, key=lambda u: score[u])
    return best if score[best] >= USAGE_MIN_SHARE * sum(score.values()) else UNKNOWN


def shape_cue(mask: np.ndarray) -> str:
    """'tall', 'wide' or 'square' from the foreground's bounding box; '' when there is no backdrop to cut it out."""
    if mask.all():
        return ""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    ratio = (rows[-1] - rows[0] + 1) / (cols[-1] - cols[0] + 1)
    return "tall" if ratio > SHAPE_RATIO else "wide" if ratio < 1 / SHAPE_RATIO else "square"


def top_classes(probs: np.ndarray) -> tuple[tuple[str, float], ...]:
    """The classifier's strongest product classes (at most EVIDENCE_CLASSES, each above EVIDENCE_MIN_PROB);
    classes no type maps ('dumbbell' on a worn t-shirt) are no evidence a merchandiser could use."""
    p = np.asarray(probs, np.float64)
    names, product_class = imagenet_classes(), np.asarray(_type_matrix()[1].any(axis=0))
    best = [i for i in np.argsort(-p, kind="stable") if p[i] >= EVIDENCE_MIN_PROB and product_class[i]]
    return tuple((names[i], round(float(p[i]), 4)) for i in best[:EVIDENCE_CLASSES])


@dataclass(frozen=True)
class Appearance:
    """What the pixels alone say (no CNN): computed apart, so it can run beside the CNN."""

    colours: tuple[NamedColour, ...]
    pattern: str
    shape: str = ""


def appearance(image: Image.Image) -> Appearance:
    """Named colours, pattern cue and outline of one image's foreground."""
    rgb = analysis_pixels(image)
    lab = srgb_to_lab(rgb)
    mask = foreground_mask(lab)
    return Appearance(tuple(dominant_colours(rgb, mask, lab=lab)), pattern_cue(rgb, mask, lab=lab), shape_cue(mask))


def tag_from(look: Appearance, probs: np.ndarray, context: Mapping[str, str] | None = None) -> Tags:
    """All tags from an image's appearance, its ImageNet probabilities (core.nets.vision) and optional item context."""
    guess = guess_type(probs, context)
    usage = guess_usage(guess.posterior, list(look.colours), look.pattern) if guess.product else UNKNOWN
    return Tags(guess.product, guess.score, guess.source, look.colours, look.pattern, usage,
                top_classes(probs), look.shape, guess.category)


def tag(image: Image.Image, probs: np.ndarray, context: Mapping[str, str] | None = None) -> Tags:
    """All tags for one image given its ImageNet probabilities (from core.nets.vision) and optional item context."""
    return tag_from(appearance(image), probs, context)
