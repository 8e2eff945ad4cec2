"""Generate Vitrine's seeded sample catalogue: drawn product images, items, shoppers and interactions.

Run from the repository root:  python sample_catalog/generate.py --seed 7
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # executed as a script: make `sample_catalog` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample_catalog.draw import render, save_png
from sample_catalog.geometry import Spec
from sample_catalog.textures import PALETTE

DEFAULT_SEED = 7
HERE = Path(__file__).resolve().parent
ITEM_COLUMNS = ("sku", "title", "category", "image", "style", "material", "occasion", "colour", "pattern",
                "subtype", "brand", "price")
STYLES = ("minimalist", "classic", "bohemian", "sporty", "streetwear", "romantic", "rustic", "glam")
OCCASIONS = ("office", "weekend", "evening", "outdoor", "lounge", "holiday", "wedding", "dining")
PATTERNS = ("solid", "stripes", "plaid", "polka dots", "floral")
BRANDS = ("Maison Verre", "Northfold", "Kestrel & Co", "Atelier Lune", "Field Theory", "Oda Studio",
          "Harbor Row", "Solenne")
CATEGORY_PREFIX = {"apparel": "APP", "bags": "BAG", "shoes": "SHO", "home": "HOM"}
FIRST_DAY, LAST_DAY = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
ITEMS_STREAM, SHOPPERS_STREAM, IMAGES_STREAM, INTERACTIONS_STREAM = range(4)  # independent seeded streams
EXPLORE = 0.15        # share of interaction probability spread uniformly over the catalogue
TASTE_WEIGHT = 2.0    # affinity = TASTE_WEIGHT x (number of style/occasion/material matches)


@dataclass(frozen=True)
class Subtype:
    """A kind of product: its title noun, category, and which materials, occasions and styles suit it."""

    noun: str
    category: str
    materials: tuple[str, ...]
    occasions: tuple[str, ...]
    styles: tuple[str, ...]
    price: float


def _subtypes() -> dict[str, Subtype]:
    """The product kinds, with coherent materials (no leather mugs) and plausible base prices."""
    everyday = ("minimalist", "classic", "bohemian", "romantic", "rustic", "glam")
    return {
        "t-shirt": Subtype("T-Shirt", "apparel", ("cotton", "linen"), ("weekend", "lounge", "holiday", "outdoor"),
                           ("minimalist", "classic", "sporty", "streetwear", "bohemian", "romantic"), 28),
        "shirt": Subtype("Shirt", "apparel", ("cotton", "linen", "denim", "silk"),
                         ("office", "weekend", "evening", "holiday", "wedding"),
                         ("minimalist", "classic", "bohemian", "romantic", "rustic", "glam", "streetwear"), 62),
        "dress": Subtype("Dress", "apparel", ("cotton", "linen", "silk", "velvet", "knit"),
                         ("evening", "wedding", "holiday", "weekend", "office"),
                         ("minimalist", "classic", "bohemian", "romantic", "glam", "sporty"), 95),
        "trousers": Subtype("Trousers", "apparel", ("cotton", "linen", "wool"),
                            ("office", "weekend", "evening", "outdoor"),
                            ("minimalist", "classic", "sporty", "streetwear", "bohemian", "rustic", "glam"), 75),
        "jeans": Subtype("Jeans", "apparel", ("denim",), ("weekend", "outdoor", "evening"),
                         ("minimalist", "classic", "streetwear", "bohemian", "rustic"), 85),
        "jacket": Subtype("Jacket", "apparel", ("denim", "leather", "wool", "nylon", "cotton"),
                          ("weekend", "outdoor", "office", "evening"),
                          ("minimalist", "classic", "sporty", "streetwear", "rustic", "glam", "bohemian"), 150),
        "coat": Subtype("Coat", "apparel", ("wool", "cotton"), ("office", "outdoor", "weekend", "evening"),
                        ("minimalist", "classic", "streetwear", "rustic", "glam"), 240),
        "sweater": Subtype("Sweater", "apparel", ("knit",), ("lounge", "weekend", "office", "outdoor"),
                           ("minimalist", "classic", "rustic", "streetwear", "romantic", "bohemian", "sporty"), 90),
        "skirt": Subtype("Skirt", "apparel", ("cotton", "linen", "denim", "leather", "silk", "wool"),
                         ("office", "weekend", "evening", "holiday", "wedding"),
                         ("minimalist", "classic", "bohemian", "romantic", "glam", "streetwear", "sporty"), 65),
        "tote": Subtype("Tote Bag", "bags", ("leather", "canvas", "straw"), ("weekend", "holiday", "office"),
                        ("minimalist", "classic", "bohemian", "sporty", "rustic", "streetwear"), 70),
        "backpack": Subtype("Backpack", "bags", ("nylon", "canvas", "leather"), ("outdoor", "weekend", "office"),
                            ("minimalist", "classic", "sporty", "streetwear", "rustic"), 95),
        "handbag": Subtype("Handbag", "bags", ("leather", "suede"), ("office", "evening", "wedding"),
                           ("minimalist", "classic", "glam", "romantic"), 190),
        "clutch": Subtype("Clutch", "bags", ("leather", "suede", "velvet", "silk"), ("evening", "wedding"),
                          ("minimalist", "glam", "romantic", "classic", "bohemian"), 110),
        "crossbody": Subtype("Crossbody Bag", "bags", ("leather", "suede", "canvas", "nylon"),
                             ("weekend", "holiday", "evening", "outdoor"),
                             ("minimalist", "classic", "bohemian", "sporty", "streetwear", "romantic"), 125),
        "sneaker": Subtype("Sneakers", "shoes", ("canvas", "leather", "mesh", "suede"),
                           ("weekend", "outdoor", "holiday"), ("minimalist", "classic", "sporty", "streetwear"), 100),
        "boot": Subtype("Ankle Boots", "shoes", ("leather", "suede"), ("outdoor", "weekend", "office", "evening"),
                        ("classic", "rustic", "streetwear", "minimalist", "glam", "bohemian"), 170),
        "loafer": Subtype("Loafers", "shoes", ("leather", "suede", "velvet"), ("office", "weekend", "wedding"),
                          ("classic", "minimalist", "glam", "romantic"), 135),
        "heel": Subtype("Heels", "shoes", ("leather", "suede", "silk", "velvet"), ("evening", "wedding", "office"),
                        ("glam", "romantic", "classic", "minimalist"), 125),
        "sandal": Subtype("Sandals", "shoes", ("leather", "suede"), ("holiday", "weekend", "wedding"),
                          ("bohemian", "minimalist", "romantic", "rustic", "sporty", "classic", "glam"), 65),
        "cushion": Subtype("Cushion", "home", ("linen", "cotton", "velvet", "knit", "wool"), ("lounge", "holiday"),
                           everyday, 38),
        "vase": Subtype("Vase", "home", ("ceramic", "marble"), ("dining", "wedding", "lounge"), everyday, 48),
        "lamp": Subtype("Table Lamp", "home", ("ceramic", "marble", "wood"), ("lounge", "office"),
                        ("minimalist", "classic", "rustic", "glam", "romantic"), 120),
        "mug": Subtype("Mug", "home", ("ceramic",), ("lounge", "office", "outdoor"), everyday, 18),
        "throw": Subtype("Throw", "home", ("wool", "knit", "cotton", "linen"), ("lounge", "outdoor"),
                         ("minimalist", "classic", "bohemian", "rustic", "romantic"), 80),
        "side table": Subtype("Side Table", "home", ("wood", "marble"), ("lounge", "office"),
                              ("minimalist", "classic", "rustic", "glam", "bohemian"), 210),
        "plate": Subtype("Dinner Plate", "home", ("ceramic",), ("dining", "wedding", "holiday"), everyday, 22),
        "bowl": Subtype("Bowl", "home", ("ceramic", "wood", "marble"), ("dining", "holiday", "lounge"),
                        ("minimalist", "rustic", "bohemian", "glam", "classic"), 28),
    }


SUBTYPES = _subtypes()
MATERIALS = tuple(sorted({m for s in SUBTYPES.values() for m in s.materials}))
STYLE_MATERIALS = {
    "minimalist": {"cotton", "linen", "leather", "ceramic", "wool", "marble"},
    "classic": {"wool", "leather", "cotton", "denim", "marble", "suede", "silk"},
    "bohemian": {"linen", "suede", "straw", "cotton", "ceramic", "knit"},
    "sporty": {"mesh", "nylon", "cotton", "canvas"},
    "streetwear": {"denim", "canvas", "nylon", "leather", "cotton"},
    "romantic": {"silk", "linen", "velvet", "cotton", "ceramic"},
    "rustic": {"wood", "linen", "wool", "canvas", "straw", "ceramic", "suede", "knit"},
    "glam": {"velvet", "silk", "leather", "marble", "suede"},
}
STYLE_OCCASIONS = {
    "minimalist": {"office", "lounge", "dining"}, "classic": {"office", "wedding", "dining", "evening"},
    "bohemian": {"holiday", "weekend", "outdoor"}, "sporty": {"outdoor", "weekend"},
    "streetwear": {"weekend", "evening"}, "romantic": {"wedding", "evening", "holiday"},
    "rustic": {"outdoor", "lounge", "dining", "weekend"}, "glam": {"evening", "wedding"},
}
STYLE_PATTERNS = {
    "minimalist": {"solid": 1.0}, "classic": {"solid": 0.3, "stripes": 0.35, "plaid": 0.35},
    "bohemian": {"floral": 0.65, "solid": 0.1, "stripes": 0.25}, "sporty": {"stripes": 0.7, "solid": 0.3},
    "streetwear": {"solid": 0.4, "plaid": 0.35, "stripes": 0.25},
    "romantic": {"floral": 0.5, "polka dots": 0.4, "solid": 0.1},
    "rustic": {"plaid": 0.55, "solid": 0.2, "stripes": 0.25}, "glam": {"solid": 0.6, "polka dots": 0.4},
}
PRINTABLE = {
    "cotton": set(PATTERNS), "linen": set(PATTERNS), "silk": {"solid", "floral", "polka dots", "stripes"},
    "wool": {"solid", "plaid", "stripes"}, "knit": {"solid", "stripes"}, "canvas": {"solid", "stripes"},
    "ceramic": {"solid", "stripes", "polka dots", "floral"},
}
STYLE_WORDS = {
    "minimalist": ("Essential", "Clean-Line", "Pared-Back"), "classic": ("Tailored", "Heritage", "Classic"),
    "bohemian": ("Boho", "Free-Spirit", "Artisan"), "sporty": ("Active", "Sport", "Training"),
    "streetwear": ("Oversized", "Street", "Urban"), "romantic": ("Romantic", "Soft", "Delicate"),
    "rustic": ("Rustic", "Farmhouse", "Handmade"), "glam": ("Luxe", "Statement", "Glam"),
}
PATTERN_WORDS = {"stripes": "Striped", "plaid": "Plaid", "polka dots": "Polka-Dot", "floral": "Floral"}
MATERIAL_PRICE = {"leather": 1.6, "suede": 1.5, "silk": 1.5, "velvet": 1.35, "marble": 1.7, "wool": 1.3,
                  "knit": 1.1, "linen": 1.1, "wood": 1.2}
STYLE_PRICE = {"glam": 1.25, "classic": 1.1, "minimalist": 1.05}


@dataclass(frozen=True)
class Item:
    """One catalogue row."""

    sku: str
    title: str
    category: str
    image: str
    style: str
    material: str
    occasion: str
    colour: str
    pattern: str
    subtype: str
    brand: str
    price: float


@dataclass(frozen=True)
class Shopper:
    """A simulated shopper's ground-truth taste over semantic attributes (never colour)."""

    shopper_id: str
    styles: tuple[str, ...]
    occasions: tuple[str, ...]
    materials: tuple[str, ...]


def _pick(rng: np.random.Generator, options: Iterable[str], weights: dict[str, float] | None = None) -> str:
    """One option, drawn in proportion to its weight (default 1)."""
    opts = list(options)
    w = np.array([(weights or {}).get(o, 1.0) for o in opts], dtype=float)
    return opts[rng.choice(len(opts), p=w / w.sum())]


def _favour(preferred: set[str], boost: float = 4.0) -> dict[str, float]:
    """Weights that favour the preferred options."""
    return dict.fromkeys(preferred, boost)


def make_item(category: str, subtype: str, number: int, rng: np.random.Generator) -> Item:
    """Sample one coherent item: style first, then material, pattern and occasion that suit it; colour apart."""
    kind = SUBTYPES[subtype]
    style = _pick(rng, kind.styles)
    material = _pick(rng, kind.materials, _favour(STYLE_MATERIALS[style]))
    leaning = STYLE_PATTERNS[style]  # every style leaves some weight on "solid", which every material allows
    pattern = _pick(rng, [p for p in PATTERNS if p in PRINTABLE.get(material, {"solid"}) and p in leaning], leaning)
    occasion = _pick(rng, kind.occasions, _favour(STYLE_OCCASIONS[style]))
    colour = _pick(rng, PALETTE)  # independent of everything else, on purpose
    words = [colour.title(), PATTERN_WORDS.get(pattern, ""), material.title(),
             STYLE_WORDS[style][rng.integers(3)], kind.noun]
    price = kind.price * MATERIAL_PRICE.get(material, 1.0) * STYLE_PRICE.get(style, 1.0) * rng.lognormal(0, 0.15)
    sku = f"{CATEGORY_PREFIX[category]}-{number:04d}"
    return Item(sku, " ".join(w for w in words if w), category, f"images/{sku}.png", style, material, occasion,
                colour, pattern, subtype, _pick(rng, BRANDS), round(max(round(price) - 0.05, 4.95), 2))


def make_items(rng: np.random.Generator, per_category: int) -> list[Item]:
    """A balanced catalogue: every category gets per_category items spread evenly over its subtypes."""
    items = []
    for category in CATEGORY_PREFIX:
        kinds = [name for name, s in SUBTYPES.items() if s.category == category]
        plan = [kinds[i % len(kinds)] for i in range(per_category)]
        rng.shuffle(plan)
        items += [make_item(category, subtype, n, rng) for n, subtype in enumerate(plan, start=1)]
    return items


def make_shoppers(rng: np.random.Generator, count: int) -> list[Shopper]:
    """Shoppers with 1-2 preferred styles, occasions and materials each."""
    def few(options: tuple[str, ...]) -> tuple[str, ...]:
        """One or two distinct options, sorted."""
        return tuple(sorted(str(o) for o in rng.choice(options, size=rng.integers(1, 3), replace=False)))

    return [Shopper(f"S{i:04d}", few(STYLES), few(OCCASIONS), few(MATERIALS)) for i in range(1, count + 1)]


def affinity(shopper: Shopper, items: list[Item]) -> np.ndarray:
    """TASTE_WEIGHT x the number of the shopper's style/occasion/material preferences each item matches."""
    matches = [(i.style in shopper.styles) + (i.occasion in shopper.occasions) + (i.material in shopper.materials)
               for i in items]
    return TASTE_WEIGHT * np.array(matches, dtype=float)


def make_interactions(rng: np.random.Generator, shoppers: list[Shopper],
                      items: list[Item]) -> list[tuple[str, str, str]]:
    """8-25 distinct items per shopper, drawn by softmax(affinity) mixed with EXPLORE uniform picks, timestamped."""
    rows = []
    span = (LAST_DAY - FIRST_DAY).total_seconds()
    for shopper in shoppers:
        taste = np.exp(affinity(shopper, items))
        p = (1 - EXPLORE) * taste / taste.sum() + EXPLORE / len(items)
        chosen = rng.choice(len(items), size=int(rng.integers(8, 26)), replace=False, p=p)
        times = sorted(FIRST_DAY + timedelta(seconds=int(s)) for s in rng.uniform(0, span, len(chosen)))
        stamps = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times]
        rows += [(shopper.shopper_id, items[k].sku, stamp) for k, stamp in zip(chosen, stamps, strict=True)]
    return rows


def draw_item(item: Item, seed: int, out: Path) -> None:
    """Render and save one item's picture with its own seeded generator (order-independent)."""
    rng = np.random.default_rng([seed, IMAGES_STREAM, _sku_number(item.sku)])
    spec = Spec(item.subtype, item.style, item.material, item.pattern, item.colour)
    save_png(render(spec, rng, flip=bool(rng.random() < 0.5)), out / item.image)


def _sku_number(sku: str) -> int:
    """A stable integer for a sku (category prefix and number)."""
    prefix, number = sku.split("-")
    return list(CATEGORY_PREFIX.values()).index(prefix) * 10_000 + int(number)


def _item_row(item: Item) -> list[object]:
    """An item's CSV cells in column order, price with two decimals."""
    row = asdict(item) | {"price": f"{item.price:.2f}"}
    return [row[c] for c in ITEM_COLUMNS]


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write rows under a header."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def generate(seed: int = DEFAULT_SEED, out: Path = HERE, per_category: int = 50, shoppers: int = 300,
             workers: int = 2) -> list[Item]:
    """Write images/, items.csv, shoppers.csv and interactions.csv under out; returns the items."""
    items = make_items(np.random.default_rng([seed, ITEMS_STREAM]), per_category)
    people = make_shoppers(np.random.default_rng([seed, SHOPPERS_STREAM]), shoppers)
    interactions = make_interactions(np.random.default_rng([seed, INTERACTIONS_STREAM]), people, items)
    (out / "images").mkdir(parents=True, exist_ok=True)
    for stale in (out / "images").glob("*.png"):
        stale.unlink()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(draw_item, items, [seed] * len(items), [out] * len(items), chunksize=4))
    write_csv(out / "items.csv", ITEM_COLUMNS, (_item_row(i) for i in items))
    write_csv(out / "shoppers.csv", ("shopper_id", "preferred_styles", "preferred_occasions", "preferred_materials"),
              ((s.shopper_id, ";".join(s.styles), ";".join(s.occasions), ";".join(s.materials)) for s in people))
    write_csv(out / "interactions.csv", ("shopper_id", "sku", "timestamp"), interactions)
    return items


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    parser.add_argument("--per-category", type=int, default=50, help="items per category (default %(default)s)")
    parser.add_argument("--shoppers", type=int, default=300, help="simulated shoppers (default %(default)s)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="drawing processes (default %(default)s)")
    args = parser.parse_args(argv)
    items = generate(args.seed, args.out, args.per_category, args.shoppers, args.workers)
    size = sum(p.stat().st_size for p in (args.out / "images").glob("*.png"))
    print(f"wrote {len(items)} items, images {size / 1e6:.2f} MB, to {args.out}")


if __name__ == "__main__":
    main()
