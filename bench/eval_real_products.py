"""Semantic vs appearance on real photos: neighbour precision@10 of each representation on labelled products.

For every item, its 10 nearest other items under a representation; relevant = same articleType AND same
usage. Descriptions are made with the product title withheld from the describer (prompt and item context);
one extra run with the title visible shows how much the title leaks in. Skips cleanly when the photos
(`../shared/real_products`, not part of the project) are absent.

Usage: python bench/eval_real_products.py [--write] [--data DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog.ingest import ingest  # noqa: E402
from core.evaluation.ablation import run_withheld  # noqa: E402
from core.evaluation.baselines import pool_matrix  # noqa: E402
from core.evaluation.bootstrap import bootstrap_ci, corrected, paired_bootstrap  # noqa: E402
from core.evaluation.neighbours import chance_precision, neighbour_precision  # noqa: E402
from core.evaluation.report import write_section  # noqa: E402
from core.lab import Lab, open_lab  # noqa: E402
from core.represent.recommend import load_matrix  # noqa: E402
from core.represent.representations import build_title, build_visual  # noqa: E402
from core.runs.prompt import run_prompt  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "real_products"
EVIDENCE = ROOT / "EVALUATION.md"
REPRODUCE = "python bench/eval_real_products.py --write"
K = 10


def load_rows(data: Path) -> list[dict[str, str]]:
    with open(data / "labels.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def metadata_csv(rows: list[dict[str, str]]) -> bytes:
    """What the workspace knows: title and a coarse category (masterCategory); the labels stay out."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["sku", "title", "category", "image"])
    for r in rows:
        writer.writerow([r["id"], r["productDisplayName"], r["masterCategory"], Path(r["image"]).name])
    return buf.getvalue().encode()


def build(data: Path, root: Path) -> tuple[Lab, dict[str, str]]:
    """Ingest, then title + visual baselines and the description runs; returns (lab, label -> representation)."""
    lab = open_lab(root / "ws")  # the title-withheld prompts are saved in the workspace, never in the repo
    rows = load_rows(data)
    report = ingest(lab.store, lab.images, [data / "images"], metadata_csv(rows))
    print(f"ingest: {report.summary()}", file=sys.stderr)
    reps = {"title (productDisplayName + masterCategory)": build_title(lab),
            "visual (EfficientNet-Lite0 features)": build_visual(lab)}
    for name in ("preference", "appearance"):  # both with the title withheld from the describer
        run = run_withheld(lab, lab.prompts.get(name), "offline")
        reps[f"{run.prompt_ref} description, title withheld"] = run.representation
        print(f"describe: {run.summary()}", file=sys.stderr)
    visible = run_prompt(lab, lab.prompts.get("preference"), "offline")  # contrast: the describer sees the title
    reps[f"{visible.prompt_ref} description, title visible (leak check)"] = visible.representation
    return lab, reps


def photo_sizes(lab: Lab) -> str:
    """'400 at 60×80, 190 at 224×224': the set mixes sizes (the accessories are larger), so say which."""
    sizes: Counter[tuple[int, int]] = Counter()
    for row in lab.store.items().to_dict("records"):
        with Image.open(lab.image_ref(row).path) as im:
            sizes[im.size] += 1
    return ", ".join(f"{n} at {w}×{h}" for (w, h), n in sizes.most_common())


def describer_models(lab: Lab, reps: dict[str, str]) -> str:
    """The tagger revision(s) that wrote the descriptions, so a later revision's numbers are never read as these."""
    return ", ".join(sorted({f"`{lab.store.representation(n)['model']}`" for n in reps.values() if "/" in n}))


def evaluate_neighbours(lab: Lab, reps: dict[str, str], rows: list[dict[str, str]], seed: int) -> str:
    labels = {r["id"]: r for r in rows}
    matrices = {label: load_matrix(lab, name) for label, name in reps.items()}
    pool = sorted(set.intersection(*(set(m.skus) for m in matrices.values())))
    labelled = np.array([bool(labels[s]["articleType"] and labels[s]["usage"]) for s in pool])

    def key(sku: str, *fields: str) -> str:
        r = labels[sku]
        return "|".join(r[f] for f in fields) if all(r[f] for f in fields) else f"?{sku}"  # unlabelled: never relevant

    both = [key(s, "articleType", "usage") for s in pool]
    by_type, by_usage = [key(s, "articleType") for s in pool], [key(s, "usage") for s in pool]
    results = {}
    for label, m in matrices.items():
        pm = pool_matrix(m, pool)
        results[label] = {"both": neighbour_precision(pm, both, K)[labelled],
                          "type": neighbour_precision(pm, by_type, K)[labelled],
                          "usage": neighbour_precision(pm, by_usage, K)[labelled]}
    chance = {"both": chance_precision(both)[labelled], "type": chance_precision(by_type)[labelled],
              "usage": chance_precision(by_usage)[labelled]}
    visual = next(label for label in results if label.startswith("visual"))
    lines = [
        f"{len(pool)} real product photos (JPEG: {photo_sizes(lab)}) from `../shared/real_products`; "
        f"{int(labelled.sum())} "
        f"carry both labels and are scored as queries (all {len(pool)} are candidates). For each query item, its "
        f"{K} nearest other items by cosine; **relevant = same `articleType` AND same `usage`**. Means with 95% "
        f"bootstrap CIs over query items (seed {seed}).",
        "",
        f"| Representation | P@{K}: same type + usage | P@{K}: same articleType | P@{K}: same usage |",
        "|---|---|---|---|",
    ]
    for label, r in results.items():
        cells = [bootstrap_ci(r[f], seed=seed).cell() for f in ("both", "type", "usage")]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| chance (random neighbours, expected) | " + " | ".join(
        f"{chance[f].mean():.3f}" for f in ("both", "type", "usage")) + " |")
    family = corrected([paired_bootstrap(r["both"], results[visual]["both"], names=(label, "visual"),
                                         metric=f"precision@{K}", seed=seed, unit="query items")
                        for label, r in results.items() if label != visual])
    lines += ["", f"Paired comparisons against `visual` (per query item, same type + usage, P@{K}; one family of "
              f"{len(family)}, Holm–Bonferroni, sign-flip permutation p):", "", *(f"- {p.sentence()}" for p in family)]
    lines += [
        "",
        "Inputs: `title` embeds the product name (which often names the article type, e.g. \"… T-shirt\") and "
        "the masterCategory. `visual` sees pixels only. The description runs see the image plus the "
        "masterCategory (Apparel / Footwear / Accessories …) and **never the title**: `preference-notitle` is "
        "`preference` minus its title line, `appearance` never had one, and for both the title column is "
        "removed from the item context the describer receives. The last row is the same `preference` prompt "
        "with the title visible, to show what a title leak looks like. The describer is the offline tagger "
        f"{describer_models(lab, reps)} (EfficientNet-Lite0 ImageNet tags + colour palette) — **not an LVLM**; an "
        "LVLM's descriptions may behave differently.",
        "",
        f"Reproduce: `{REPRODUCE}` (skips when `../shared/real_products` is absent).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update the real-photos section of {EVIDENCE.name}")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.data / "labels.csv").is_file():
        print(f"skipped: no labelled photos at {args.data} (they are not part of the project)")
        return 0
    with tempfile.TemporaryDirectory(prefix="vitrine-eval-real-") as tmp:
        lab, reps = build(args.data, Path(tmp))
        body = evaluate_neighbours(lab, reps, load_rows(args.data), args.seed)
    print(body)
    if args.write:
        write_section(EVIDENCE, "real-products", "Real photos: semantic vs appearance (neighbour precision@10)", body)
        print(f"wrote {EVIDENCE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
