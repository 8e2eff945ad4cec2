"""P4: offline ingest + describe, end to end, in images per second on 1,000 sample images.

Usage: python bench/ingest_offline.py [--write] [--per-category 250]

Stages timed separately, all Vitrine's own code: core.ingest.ingest (validate, hash, store, thumbnail, write
items), then core.runs.run_prompt with the offline provider (EfficientNet-Lite0 tags in batches of 32,
colour palette, templated description, batched description writes) which ends by embedding the
descriptions with all-MiniLM-L6-v2 into the run's representation. Model loading is timed apart.
The images are the seeded sample catalogue drawn at 4 x 250 (generated once into /tmp, not timed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, table, timed, write_section  # noqa: I001 - sets sys.path first

import torch

from core.describers.offline import OfflineDescriber
from core.ingest import ingest
from core.lab import open_lab
from core.runs import run_prompt

SECTION = "perf-P4"


def catalogue(per_category: int) -> Path:
    """The sample catalogue at this size, generated once per size into /tmp."""
    out = Path(tempfile.gettempdir()) / f"vitrine-sample-{per_category}"
    if not (out / "items.csv").exists():
        subprocess.run([sys.executable, "sample_catalog/generate.py", "--out", str(out), "--per-category",
                        str(per_category), "--workers", str(len(os.sched_getaffinity(0)))], cwd=ROOT, check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--per-category", type=int, default=250)
    args = parser.parse_args()
    source = catalogue(args.per_category)
    with tempfile.TemporaryDirectory(prefix="vitrine-p4-") as tmp:
        lab = open_lab(Path(tmp) / "ws")
        load_s, _ = timed(lambda: (lab.describer("offline")._vision._loaded(), lab.encoder.encode(["warm-up"])))  # noqa: SLF001
        started = time.perf_counter()
        ingest_s, report = timed(lambda: ingest(lab.store, lab.images, [source / "images"],
                                                (source / "items.csv").read_bytes()))
        run_s, run = timed(lambda: run_prompt(lab, lab.prompts.get("preference"), "offline"))
        total_s = time.perf_counter() - started
        n = report.accepted
        tag_s = _tag_only(lab)
    rate = n / total_s
    rows = [
        {"stage": "ingest: validate, hash, store, thumbnail, write items", "seconds": f"{ingest_s:.1f}",
         "images/s": f"{n / ingest_s:.1f}"},
        {"stage": "describe (tag + render, batched writes) and embed (MiniLM)", "seconds": f"{run_s:.1f}",
         "images/s": f"{n / run_s:.1f}"},
        {"stage": "of which: the tagger alone (CNN batches of 32 + colour/pattern)", "seconds": f"{tag_s:.1f}",
         "images/s": f"{n / tag_s:.1f}"},
        {"stage": "**end to end**", "seconds": f"{total_s:.1f}", "images/s": f"**{rate:.1f}**"},
    ]
    text = f"""{n:,} sample images (`sample_catalog/generate.py --per-category {args.per_category}`), a fresh workspace, the real
offline provider and MiniLM encoder; models loaded beforehand ({load_s:.1f} s, not counted). torch threads:
{torch.get_num_threads()}. Run: {run.summary()}.

{table(rows, ["stage", "seconds", "images/s"])}

- >= 20 images/s end to end: **{'met' if rate >= 20 else 'missed'}** ({rate:.1f} images/s).
"""
    print(text)
    if args.write:
        write_section(SECTION, "P4 - offline ingest + describe", text, "python bench/ingest_offline.py --write")


def _tag_only(lab) -> float:  # noqa: ANN001
    """The tagger's share: tags for every stored image again, with the describer's own batching."""
    describer = lab.describer("offline")
    assert isinstance(describer, OfflineDescriber)
    refs = [lab.image_ref(r) for r in lab.store.items().to_dict("records")]
    took, _ = timed(lambda: [describer.tags_many(refs[i:i + 32]) for i in range(0, len(refs), 32)])
    return took


if __name__ == "__main__":
    main()
