"""Description QA's content flags: how often each fires and how often a flag is a real mistake (judged on labels).

Two catalogues, each described by the offline tagger with both shipped prompts, then run through `qa_table`:
the sample workspace (labels: items.csv's subtype, colour and material) and the real product photos in
../shared/real_products (labels: articleType and baseColour; skipped when absent). As the offline tagger names
the colours it measured, its texts cannot contradict the image's colours; the colour check is also measured on
probe texts written from the real labels, right and deliberately wrong.

Usage: python bench/qa_flags.py [--write] [--sample-workspace DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table, write_section
from bench.eval_real_products import load_rows, metadata_csv
from bench.tagger_accuracy import COLOUR_FAMILIES
from core.catalog.ingest import ingest
from core.describe.tagging import name_colours
from core.lab import Lab, open_lab
from core.models import Attributes
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.qa_flags import (
    COLOUR_DELTA_E,
    SHARED_TEXT_MIN_ITEMS,
    claimed_materials,
    colour_distance,
    colour_gap,
    described_type,
    main_colour,
    text_key,
)
from core.services.qa_terms import colour_references, colour_vocabulary, kinds, material_vocabulary
from core.services.sample import build_sample

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "real_products"
COMMAND = "python bench/qa_flags.py --write"
RULES = ("type contradiction", "material contradiction", "colour contradiction", "shared text")
CLEAR_MISTAKE = 45.0  # a probe's wrong colour is at least this far (ΔE2000, references) from the label's colour
SWEEP = (30.0, COLOUR_DELTA_E, 40.0)

# What each label correctly calls a product, as QA's types (a generic noun of the right category is never wrong).
REAL_TYPES: dict[str, set[str]] = {
    "Tshirts": {"t-shirt"}, "Tops": {"t-shirt", "shirt", "kurta / tunic"}, "Shirts": {"shirt"},
    "Kurtas": {"kurta / tunic"}, "Kurtis": {"kurta / tunic"}, "Kurta Sets": {"kurta / tunic"}, "Dresses": {"dress"},
    "Nightdress": {"nightwear", "dress"}, "Night suits": {"nightwear"}, "Bath Robe": {"kimono / robe"},
    "Jeans": {"jeans"}, "Trousers": {"trousers"}, "Track Pants": {"trousers"}, "Capris": {"trousers"},
    "Leggings": {"trousers"}, "Rain Trousers": {"trousers"}, "Lounge Pants": {"trousers", "nightwear"},
    "Shorts": {"shorts"}, "Lounge Shorts": {"shorts", "nightwear"}, "Sweaters": {"sweater"},
    "Sweatshirts": {"sweatshirt"}, "Jackets": {"coat / jacket"}, "Shrug": {"sweater"}, "Skirts": {"skirt"},
    "Sarees": {"saree / sarong"}, "Dupatta": {"shawl / stole"}, "Scarves": {"shawl / stole"},
    "Mufflers": {"shawl / stole"}, "Socks": {"socks"}, "Casual Shoes": {"casual shoes"},
    "Sports Shoes": {"sports shoes"}, "Formal Shoes": {"formal shoes"}, "Flats": {"casual shoes", "sandals"},
    "Heels": {"heels"}, "Sandals": {"sandals"}, "Flip Flops": {"flip flops"}, "Backpacks": {"backpack"},
    "Handbags": {"handbag", "tote"}, "Clutches": {"handbag"}, "Messenger Bag": {"messenger bag"},
    "Wallets": {"wallet"}, "Mobile Pouch": {"wallet"}, "Belts": {"belt"}, "Caps": {"hat"},
    "Sunglasses": {"sunglasses"}, "Watches": {"watch"}, "Ties": {"tie"}, "Cufflinks": {"jewellery"},
    "Basketballs": {"ball"},
}
SAMPLE_TYPES: dict[str, set[str]] = {
    "t-shirt": {"t-shirt"}, "shirt": {"shirt"}, "dress": {"dress"}, "trousers": {"trousers"}, "jeans": {"jeans"},
    "jacket": {"coat / jacket"}, "coat": {"coat / jacket"}, "sweater": {"sweater"}, "skirt": {"skirt"},
    "tote": {"tote"}, "backpack": {"backpack"}, "handbag": {"handbag"}, "clutch": {"handbag"},
    "crossbody": {"messenger bag", "handbag"}, "sneaker": {"sports shoes"}, "boot": {"boots"},
    "loafer": {"casual shoes"}, "heel": {"heels"}, "sandal": {"sandals"}, "cushion": {"cushion"}, "vase": {"vase"},
    "lamp": {"lamp"}, "mug": {"mug"}, "throw": {"blanket"}, "side table": {"table"}, "plate": {"plate"},
    "bowl": {"bowl"},
}


@dataclass(frozen=True)
class Labels:
    """How one catalogue's labels are read: column names and the type map."""

    name: str
    type_column: str
    types: dict[str, set[str]]
    colour_column: str
    material_column: str | None
    group_column: str


SAMPLE = Labels("sample", "subtype", SAMPLE_TYPES, "colour", "material", "category")
REAL = Labels("real photos", "articleType", REAL_TYPES, "baseColour", None, "masterCategory")


# --- judging --------------------------------------------------------------------------------------

def colour_term(label: str) -> str:
    return colour_vocabulary().mentions(label)[0].term


def palette_name(words: str) -> str | None:
    """The palette name ('Navy Blue') a colour word or label names; None for 'Multi', 'Steel' and other non-colours."""
    found = colour_vocabulary().mentions(words)
    return name_colours(np.array(colour_references()[found[0].term][:1]))[0] if found else None


def same_colour(a: str, b: str) -> bool:
    return a == b or any(a in f and b in f for f in COLOUR_FAMILIES)


def type_wrong(text: str, label: str, labels: Labels) -> bool | None:
    """Whether the text's product contradicts the label; None when either is unknown."""
    said = described_type(text)
    accepted = labels.types.get(label)
    if said is None or not accepted:
        return None
    kind = kinds()[said.term]
    return not (kind.name in accepted or (kind.generic and any(kinds()[a].category == kind.category
                                                                 for a in accepted)))


def colour_wrong(text: str, label: str) -> bool | None:
    said, truth = main_colour(text), palette_name(label)
    if said is None or truth is None:
        return None
    return not same_colour(palette_name(said.words) or "", truth)


def material_wrong(text: str, attributes: dict, label: str) -> bool | None:
    claims = claimed_materials(text, Attributes(**attributes))
    truth = material_vocabulary().mentions(label)
    if not claims or not truth:
        return None
    return truth[0].term not in claims


def judged(frame: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """One row per description: which rules flagged it and whether each of its claims is wrong by the labels."""
    out = frame.assign(
        label_type=frame[labels.type_column].fillna(""), label_colour=frame[labels.colour_column].fillna(""),
        group=frame[labels.group_column].fillna("other"))
    out["type_wrong"] = [type_wrong(t, lt, labels) for t, lt in zip(out["text"], out["label_type"], strict=True)]
    out["colour_wrong"] = [colour_wrong(t, lc) for t, lc in zip(out["text"], out["label_colour"], strict=True)]
    materials = out[labels.material_column].fillna("") if labels.material_column else [""] * len(out)
    out["material_wrong"] = [material_wrong(t, a, m) for t, a, m in
                             zip(out["text"], out["attributes"], materials, strict=True)]
    key = out["text"].map(text_key)
    spread = out.assign(key=key, colour=out["label_colour"].map(lambda c: palette_name(c) or c)).groupby("key").agg(
        types=("label_type", "nunique"), colours=("colour", "nunique"))
    out["shared_wrong"] = [bool(spread.loc[k, "types"] > 1 or spread.loc[k, "colours"] > 1) for k in key]
    for rule in RULES:
        out[rule] = out["auto_flags"].map(lambda flags, rule=rule: any(f.startswith(rule) for f in flags))
    return out


JUDGES: dict[str, str] = {"type contradiction": "type_wrong", "material contradiction": "material_wrong",
                          "colour contradiction": "colour_wrong", "shared text": "shared_wrong"}


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def rule_rows(frame: pd.DataFrame) -> list[dict]:
    """Per rule: flags, precision among judged flags, mistakes present and how many were flagged."""
    rows = []
    for rule in RULES:
        wrong = frame[JUDGES[rule]]
        flagged = frame[rule]
        judged_flags = flagged & wrong.notna()
        true = int((flagged & (wrong == True)).sum())  # noqa: E712 (None stays unjudged)
        mistakes = int((wrong == True).sum())  # noqa: E712
        rows.append({"rule": rule, "flags": f"{int(flagged.sum())} ({pct(int(flagged.sum()), len(frame))})",
                     "judged": int(judged_flags.sum()), "precision": pct(true, int(judged_flags.sum())),
                     "mistakes in the texts": mistakes if rule != "shared text" else "–",
                     "caught (recall)": pct(true, mistakes) if rule != "shared text" else "–"})
    return rows


def group_rows(frame: pd.DataFrame, split: str) -> list[dict]:
    """Per category (or prompt): share of descriptions with any content flag, and precision over judged flags."""
    rows = []
    for name, part in frame.groupby(split):
        any_flag = part[list(RULES)].any(axis=1)
        true = judged_n = 0
        for rule in RULES:
            wrong = part[JUDGES[rule]]
            judged_n += int((part[rule] & wrong.notna()).sum())
            true += int((part[rule] & (wrong == True)).sum())  # noqa: E712
        rows.append({split: name, "descriptions": len(part),
                     "flagged": f"{int(any_flag.sum())} ({pct(int(any_flag.sum()), len(part))})",
                     "flags judged": judged_n, "precision": pct(true, judged_n)})
    return rows


def examples(frame: pd.DataFrame, n: int = 2) -> list[str]:
    lines = []
    for rule in RULES:
        for r in frame[frame[rule]].head(n).itertuples():
            flag = next(f for f in r.auto_flags if f.startswith(rule))
            lines.append(f"- {r.title!r} ({r.label_type}, {r.label_colour}): “{r.text[:90]}…” → {flag}")
    return lines


# --- catalogues -----------------------------------------------------------------------------------

def describe_both(lab: Lab) -> None:
    for name in ("preference", "appearance"):
        print(run_prompt(lab, lab.prompts.get(name), "offline").summary(), file=sys.stderr)


def qa_frame(lab: Lab) -> pd.DataFrame:
    """QA's table joined with every item column (the labels live in the items' metadata)."""
    started = time.perf_counter()
    frame = qa.qa_table(lab)
    print(f"qa_table: {len(frame)} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    items = lab.store.items().drop(columns=["title", "category", "image_sha256", "image_ext", "extra", "added_at"])
    return frame.merge(items, on="sku", how="left")


def sample_frame(workspace: Path | None) -> pd.DataFrame:
    root = workspace or Path(tempfile.mkdtemp(prefix="vitrine-qa-sample-"))
    lab = open_lab(root)
    if not lab.store.item_count():
        print(f"building the sample workspace in {root} …", file=sys.stderr)
        build_sample(lab, with_visual=False)
    return judged(qa_frame(lab), SAMPLE)


def real_frame(data: Path, root: Path) -> pd.DataFrame:
    lab = open_lab(root / "ws")
    rows = load_rows(data)
    print(f"ingest: {ingest(lab.store, lab.images, [data / 'images'], metadata_csv(rows)).summary()}", file=sys.stderr)
    describe_both(lab)
    labels = pd.DataFrame(rows).rename(columns={"id": "sku"}).drop(columns=["image"])
    frame = qa.qa_table(lab).merge(labels, on="sku", how="left")
    return judged(frame, REAL)


# --- the colour probe -----------------------------------------------------------------------------

def colour_probe(data: Path) -> str:
    """Label-true and clearly wrong colour words for every real photo, checked against its analysed colours."""
    rows = [r for r in load_rows(data) if palette_name(r["baseColour"])]
    by_frequency = [c for c, _ in collections.Counter(r["baseColour"] for r in rows).most_common()]
    gaps: dict[str, list[tuple[float, float]]] = {"dev (even ids)": [], "held-out (odd ids)": []}
    for i, r in enumerate(rows):
        far = [c for c in by_frequency if colour_distance(colour_term(c), colour_term(r["baseColour"])) >= CLEAR_MISTAKE]
        if not far:
            continue
        colours = qa.dominant_image_colours(str(data / r["image"]))
        right = colour_gap(f"A {r['baseColour'].lower()} {r['articleType'].lower()}.", colours)
        wrong = colour_gap(f"A {far[i % len(far)].lower()} {r['articleType'].lower()}.", colours)
        if right and wrong:
            gaps["dev (even ids)" if int(r["id"]) % 2 == 0 else "held-out (odd ids)"].append(
                (right.distance, wrong.distance))
    out = []
    for threshold in SWEEP:
        for half, pairs in gaps.items():
            out.append({"ΔE2000 threshold": f"{threshold:g}" + (" (chosen)" if threshold == COLOUR_DELTA_E else ""),
                        "half": half, "photos": len(pairs),
                        "label-true colour flagged": pct(sum(r > threshold for r, _ in pairs), len(pairs)),
                        "clearly wrong colour flagged": pct(sum(w > threshold for _, w in pairs), len(pairs))})
    return table(out, list(out[0]))


# --- report ---------------------------------------------------------------------------------------

def catalogue_section(title: str, frame: pd.DataFrame, labels: Labels) -> list[str]:
    rule_cols = ["rule", "flags", "judged", "precision", "mistakes in the texts", "caught (recall)"]
    group_cols = ["descriptions", "flagged", "flags judged", "precision"]
    return [f"### {title}", "", f"{len(frame)} descriptions ({frame['sku'].nunique()} items × "
            f"{frame['prompt_ref'].nunique()} prompts).", "", table(rule_rows(frame), rule_cols), "",
            table([{labels.group_column: r.pop("group"), **r} for r in group_rows(frame, "group")],
                  [labels.group_column, *group_cols]), "",
            table(group_rows(frame, "prompt_ref"), ["prompt_ref", *group_cols]), "",
            "Examples:", "", *examples(frame), ""]


METHOD = f"""\
Rules (`core/services/qa_flags.py`, vocabularies in `core/data/`): **type** — the first product noun of the text
(not a weak word like 'wardrobe', not a companion like 'layering over shirts') against the types the title names
(groups of compatible types), else against the item's category; **material** — materials the text or material
attribute claims against those the title and material-like metadata columns name, none compatible (suede is a
leather, a knit can be wool); **colour** — the text's main colour word (its Lab reference) farther than ΔE2000
{COLOUR_DELTA_E:g} from every major image colour (≥ 25% of the centre-weighted foreground); **shared text** — the
same normalised text on ≥ {SHARED_TEXT_MIN_ITEMS} differently titled items on different images.

Judging: a type flag is a true mistake when the text's product is not what the label calls it (`articleType` /
`subtype`, mapped to QA's types in the script); a colour flag when the text's main colour is not the label's colour
nor in its catalogue family (`bench/tagger_accuracy.py` families); a material flag (sample only: the real photos
have no material label) when the text never names the item's `material`; a shared-text flag when the items sharing
the text differ in type or colour label. Flags whose claim or label is unknown are not judged. Recall = flagged
true mistakes / all texts whose claim the labels contradict (only those checks that need no image are fully
comparable: a type contradicting the label while the title names no type cannot be flagged by design).
Before this change QA's content flags did not exist and its colour check flagged 0 of 432 descriptions."""

PROBE_NOTE = f"""\
The offline tagger writes the colour names it measured, so its own texts never trip the colour check; the probe
texts do. For each real photo with a colour label: 'A {{baseColour}} {{articleType}}.' (a correct text: any flag
is a false alarm, mostly an image whose analysis misses the product) and the same with a colour at least ΔE2000
{CLEAR_MISTAKE:g} from the label's (a clear mistake such as black → beige). The threshold was chosen on the dev half
(largest share of clear mistakes caught with at most 3% of correct colours flagged); the held-out half was looked
at once while choosing."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the qa-flags section of BENCHMARKS.md")
    parser.add_argument("--sample-workspace", type=Path, help="reuse this sample workspace (default: build one)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with labels.csv and images/")
    args = parser.parse_args()
    body = ["Offline tagger descriptions (**not an LVLM**) of both shipped prompts, through `qa_table`.", "",
            *catalogue_section("Sample catalogue", sample_frame(args.sample_workspace), SAMPLE)]
    if (args.data / "labels.csv").is_file():
        with tempfile.TemporaryDirectory(prefix="vitrine-qa-real-") as tmp:
            body += catalogue_section("Real product photos (`../shared/real_products`)",
                                      real_frame(args.data, Path(tmp)), REAL)
        body += ["### Colour check on probe texts (real photos)", "", colour_probe(args.data), "", PROBE_NOTE, ""]
    else:
        body += ["Real product photos: skipped (`../shared/real_products` not found).", ""]
    body += ["### Method", "", METHOD]
    text = "\n".join(body)
    print(text)
    if args.write:
        write_section("qa-flags", "Description QA flags: flag rate and precision", text, COMMAND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
