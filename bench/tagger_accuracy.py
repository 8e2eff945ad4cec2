"""How well the offline tagger reads colour, product type and usage off real product photos (image alone).

Usage: python bench/tagger_accuracy.py [--write] [--data ../shared/real_products]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.describe.providers.offline import OfflineDescriber  # noqa: E402
from core.describe.tagging import Tags  # noqa: E402
from core.markdown_sections import splice_section  # noqa: E402
from core.models import ImageRef  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "real_products"
BENCHMARKS = ROOT / "BENCHMARKS.md"
REPRODUCE = "python bench/tagger_accuracy.py --write"

# Catalogue colour families: a prediction in the same family as the label is a near-match (reported apart
# from exact matches). A name may sit in two families (Cream is both a white and a beige).
COLOUR_FAMILIES: tuple[frozenset[str], ...] = tuple(frozenset(f) for f in (
    {"Navy Blue", "Blue", "Turquoise Blue", "Teal"},
    {"Black", "Charcoal"},
    {"Grey", "Charcoal", "Silver", "Grey Melange"},
    {"White", "Off White", "Cream", "Silver"},
    {"Beige", "Cream", "Khaki", "Tan", "Peach", "Off White"},
    {"Brown", "Tan", "Rust", "Coffee Brown", "Khaki"},
    {"Red", "Maroon", "Rust"},
    {"Pink", "Magenta", "Peach"},
    {"Purple", "Lavender", "Magenta"},
    {"Yellow", "Gold", "Mustard"},
    {"Green", "Olive", "Teal", "Lime Green"},
    {"Orange", "Rust", "Peach"},
))

# Tagger product type -> the catalogue's articleType it corresponds to (one each; types the catalogue
# splits differently, e.g. 'kimono / robe', have no entry and always count as wrong).
TYPE_TO_ARTICLE = {
    "t-shirt": "Tshirts", "shirt": "Shirts", "sweatshirt": "Sweatshirts", "sweater": "Sweaters",
    "dress": "Dresses", "skirt": "Skirts", "jeans": "Jeans", "trousers": "Trousers", "shorts": "Shorts",
    "coat / jacket": "Jackets", "kurta / tunic": "Kurtas", "saree / sarong": "Sarees", "shawl / stole": "Dupatta",
    "nightwear": "Night suits", "sports shoes": "Sports Shoes", "casual shoes": "Casual Shoes",
    "formal shoes": "Formal Shoes", "sandals": "Sandals", "flip flops": "Flip Flops", "heels": "Heels",
    "tie": "Ties", "ball": "Basketballs",
}
# Tagger category -> the catalogue's masterCategory.
CATEGORY_TO_MASTER = {"apparel": "Apparel", "shoes": "Footwear", "sports": "Sporting Goods",
                      "accessories": "Accessories", "bags": "Accessories", "home": "Home"}

NOTES = """\
- Input: the image only (empty item context, so no title keywords and no category hint).
- Colour = the tagger's largest foreground colour vs `baseColour`; *near* also accepts the same catalogue
  family (blues, greys, whites, beiges, browns, reds, pinks, purples, yellows, greens, oranges; see
  `COLOUR_FAMILIES` in the script). Type = tagger product type mapped to one `articleType`
  (`TYPE_TO_ARTICLE`); category = tagger category vs `masterCategory`. Pattern has no label column, so
  the first pattern word in the title (striped / solid, plain / printed, graphic, floral, check...) is used
  as a weak label, on the rows whose title has one.
- Balanced accuracy = mean per-class recall over the label classes present, so a majority-class guess
  scores 1/#classes there. Majority baselines use the most frequent label of the whole set (generous).
- Honesty: the tagger was changed using the *dev* half only (even ids): its metrics, its error counts and
  its images. The *held-out* half (odd ids) was never opened or scored while changing the tagger; the
  first run's printout did show aggregate error counts over all 400 rows, once. Changes are listed below."""

CHANGES = """\
First run (v1: mapping, palette and thresholds written from first principles), all rows / held-out half:
colour exact 24.0% / 22.9%, colour near 54.2% / 54.6%, type 36.0% / 39.0%, category 84.2% / 86.8%,
usage 59.9% / 60.5% (below the 67.7% majority). Changes since, each checked on the dev half only:

- Colour: achromatic prototypes moved to how cloth photographs (Black L*≈16, Charcoal ≈35, Silver ≈75,
  White ≈93): black cloth with highlights read as Charcoal and white cloth with shading as Silver.
- Colour: extra prototypes under existing catalogue names: denim and sky blue (Blue), dark brown (Brown),
  midnight navy (Navy Blue). The palette still names 27 colours.
- Colour: backdrop tolerance ΔE 10 → 5 (JPEG-noise level); the looser flood fill ate white garments.
- Colour: k-means weighted by a centred Gaussian (σ = 0.3 of each side), so faces, legs and a model's jeans
  at the edges of the frame count less than the product in the middle.
- Type: 'dumbbell' / 'barbell' no longer map to fitness equipment: ImageNet's dumbbell class is known to
  fire on arms, and it claimed t-shirts worn by models.
- Type: the category is chosen first (mass summed over all its types), then the best type within it; the
  no-product threshold applies to the category's mass.
- Usage: the type's usage prior is averaged over the type posterior instead of taken from the top type.
  This moved usage to the majority level rather than past it: the tagger cannot see Sports or Ethnic
  intent in a photo (ImageNet has no kurta, and sports and casual tees look alike).
- Pattern: measured from v2 on; looks only at the central window of the foreground and no longer calls
  three or more colours a pattern (a model's skin, shirt and jeans). Edge thresholds kept at their first
  values: on the dev half, looser ones only scored better by saying 'patterned' more, the titles' majority.
- Tried and dropped on the dev half: suppressing skin-tone clusters (+1 image), k = 2, 3, 5, 6 (k = 4 kept),
  other centre widths."""


# Weak pattern labels: the first pattern word in the product title, where there is one.
TITLE_PATTERN_WORDS = {
    "striped": "striped", "stripe": "striped", "stripes": "striped", "solid": "solid", "plain": "solid",
    "printed": "patterned", "print": "patterned", "graphic": "patterned", "floral": "patterned",
    "polka": "patterned", "check": "patterned", "checked": "patterned", "checks": "patterned",
}


def title_pattern(row: dict[str, str]) -> str:
    words = re.findall(r"[a-z]+", row["productDisplayName"].lower())
    return next((TITLE_PATTERN_WORDS[w] for w in words if w in TITLE_PATTERN_WORDS), "")


@dataclass(frozen=True)
class Metric:
    attribute: str
    name: str
    hit: Callable[[dict[str, str], Tags], bool]
    truth: Callable[[dict[str, str]], str]
    predicted: Callable[[Tags], str]


def _colour(tags: Tags) -> str:
    return tags.colours[0].name if tags.colours else "none"


def _near(label: str, predicted: str) -> bool:
    return label == predicted or any(label in f and predicted in f for f in COLOUR_FAMILIES)


def _article(tags: Tags) -> str:
    return TYPE_TO_ARTICLE.get(tags.product_type, tags.product_type)


def _category(tags: Tags) -> str:
    return CATEGORY_TO_MASTER.get(tags.category, tags.category)


METRICS = (
    Metric("Colour", "exact", lambda r, t: _colour(t) == r["baseColour"], lambda r: r["baseColour"], _colour),
    Metric("Colour", "near (same family)", lambda r, t: _near(r["baseColour"], _colour(t)),
           lambda r: r["baseColour"], _colour),
    Metric("Product type", "vs articleType", lambda r, t: _article(t) == r["articleType"],
           lambda r: r["articleType"], _article),
    Metric("Category", "vs masterCategory", lambda r, t: _category(t) == r["masterCategory"],
           lambda r: r["masterCategory"], _category),
    Metric("Usage", "vs usage", lambda r, t: t.usage == r["usage"], lambda r: r["usage"], lambda t: t.usage),
    Metric("Pattern", "vs title word (weak; titles naming one)", lambda r, t: t.pattern == title_pattern(r),
           title_pattern, lambda t: t.pattern),
)


def accuracy(metric: Metric, pairs: list[tuple[dict[str, str], Tags]]) -> tuple[float, float]:
    """(accuracy, balanced accuracy) over rows that carry a label for the metric."""
    rows = [(r, t) for r, t in pairs if metric.truth(r)]
    if not rows:
        return float("nan"), float("nan")
    hits = [metric.hit(r, t) for r, t in rows]
    per_class: dict[str, list[bool]] = {}
    for (r, _), h in zip(rows, hits, strict=True):
        per_class.setdefault(metric.truth(r), []).append(h)
    return sum(hits) / len(hits), sum(sum(v) / len(v) for v in per_class.values()) / len(per_class)


def majority(metric: Metric, rows: list[dict[str, str]]) -> tuple[str, float, float]:
    """The most frequent label and its (accuracy, balanced accuracy) when predicted for every row."""
    labels = [metric.truth(r) for r in rows if metric.truth(r)]
    top, count = Counter(labels).most_common(1)[0]
    near = metric.name.startswith("near")
    hits = sum(_near(lab, top) if near else lab == top for lab in labels)
    classes = set(labels)
    recall = {c: (1.0 if (_near(c, top) if near else c == top) else 0.0) for c in classes}
    return top, hits / len(labels), sum(recall.values()) / len(classes)


def top_errors(metric: Metric, pairs: list[tuple[dict[str, str], Tags]], n: int = 6) -> list[tuple[str, int]]:
    errors = Counter(f"{metric.truth(r)} → {metric.predicted(t)}" for r, t in pairs
                     if metric.truth(r) and not metric.hit(r, t))
    return errors.most_common(n)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    import torch
    load = os.getloadavg()[0]
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores available (1-min load {load:.1f} at the end of the run: "
            f"other work shares the box, so throughput is a floor), Python {platform.python_version()}, "
            f"torch {torch.__version__}, no GPU used")


def report(pairs: list[tuple[dict[str, str], Tags]], seconds: float) -> str:
    rows = [r for r, _ in pairs]
    held_out = [(r, t) for r, t in pairs if int(r["id"]) % 2 == 1]
    lines = [
        f"Offline tagger (`core/tagging.py` via `OfflineDescriber.tags_many`) on {len(pairs)} real product "
        f"photos (60×80 JPEG) from `../shared/real_products`.",
        "",
        "| Attribute | Metric | Tagger: all | Tagger: held-out half | Majority baseline: all |",
        "|---|---|---|---|---|",
    ]
    for m in METRICS:
        acc, bal = accuracy(m, pairs)
        acc_h, bal_h = accuracy(m, held_out)
        top, base_acc, base_bal = majority(m, rows)
        lines.append(f"| {m.attribute} | {m.name} | {acc:.1%} (bal. {bal:.1%}) | {acc_h:.1%} (bal. {bal_h:.1%}) "
                     f"| {base_acc:.1%} (bal. {base_bal:.1%}) — always '{top}' |")
    dev = [(r, t) for r, t in pairs if int(r["id"]) % 2 == 0]
    lines += ["", f"n = {len(pairs)} (held-out half: {len(held_out)}). Tagging throughput including the CNN: "
              f"{len(pairs) / seconds:.1f} images/s.", "", "Most frequent errors (label → tagger), dev half only:", ""]
    for m in METRICS:
        if m.name.startswith("near"):
            continue
        errs = ", ".join(f"{e} ×{c}" for e, c in top_errors(m, dev))
        lines.append(f"- {m.attribute}: {errs}")
    return "\n".join(lines)


def write_section(body: str) -> None:
    """Replace only the tagger section of BENCHMARKS.md (create the file or the section when missing)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    splice_section(BENCHMARKS, "tagger", f"## Offline tagger accuracy (real product photos)\n\n{body}\n\n### Method\n\n"
                   f"{NOTES}\n\n### Changes to the tagger\n\n{CHANGES}\n\nMachine: {machine()}. Date: {stamp}.\n"
                   f"Reproduce: `{REPRODUCE}`", "Benchmarks")


def load_rows(data: Path) -> list[dict[str, str]]:
    with open(data / "labels.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run(data: Path) -> tuple[list[tuple[dict[str, str], Tags]], float]:
    """Tag every labelled photo from its pixels alone; returns (row, tags) pairs and the seconds it took."""
    rows = load_rows(data)
    refs = [ImageRef(sha256=r["id"], path=data / r["image"], context={}) for r in rows]
    start = time.perf_counter()
    tagged = OfflineDescriber().tags_many(refs)
    seconds = time.perf_counter() - start
    failed = [r["id"] for r, t in zip(rows, tagged, strict=True) if isinstance(t, Exception)]
    if failed:
        raise SystemExit(f"could not read {len(failed)} images, e.g. {failed[:3]}")
    return list(zip(rows, tagged, strict=True)), seconds  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with labels.csv and images/")
    parser.add_argument("--write", action="store_true", help=f"update the tagger section of {BENCHMARKS.name}")
    args = parser.parse_args()
    if not (args.data / "labels.csv").exists():
        print(f"skipped: {'../shared/real_products' if args.data == DEFAULT_DATA else args.data} not found")
        return
    pairs, seconds = run(args.data)
    body = report(pairs, seconds)
    print(body)
    if args.write:
        write_section(body)
        print(f"\nwrote the tagger section of {BENCHMARKS}")


if __name__ == "__main__":
    main()
