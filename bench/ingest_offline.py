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
        offline = lab.describer("offline")
        load_s, _ = timed(lambda: (offline._vision._loaded(), lab.encoder.encode(["warm-up"])))  # noqa: SLF001
        started = time.perf_counter()
        ingest_s, report = timed(lambda: ingest(lab.store, lab.images, [source / "images"],
                                                (source / "items.csv").read_bytes()))
        run_s, run = timed(lambda: run_prompt(lab, lab.prompts.get("preference"), "offline"))
        total_s = time.perf_counter() - started
        n = report.accepted
        cnn_s, tag_s = _split(lab)
    rate = n / total_s
    rows = [
        {"stage": "ingest: validate, hash, store, thumbnail, write items", "seconds": f"{ingest_s:.1f}",
         "images/s": f"{n / ingest_s:.1f}"},
        {"stage": "describe (tag + render, batched writes) and embed (MiniLM)", "seconds": f"{run_s:.1f}",
         "images/s": f"{n / run_s:.1f}"},
        {"stage": "of which: the CNN alone (EfficientNet-Lite0, batches of 32, PyTorch)", "seconds": f"{cnn_s:.1f}",
         "images/s": f"{n / cnn_s:.1f}"},
        {"stage": "of which: colour, pattern and type tagging alone", "seconds": f"{tag_s:.1f}",
         "images/s": f"{n / tag_s:.1f}"},
        {"stage": "**end to end**", "seconds": f"{total_s:.1f}", "images/s": f"**{rate:.1f}**"},
    ]
    text = f"""{n:,} sample images (`sample_catalog/generate.py --per-category {args.per_category}`), a fresh
workspace, the real offline provider and MiniLM encoder; models loaded beforehand ({load_s:.1f} s, not
counted). torch threads: {torch.get_num_threads()}. Run: {run.summary()}.

{table(rows, ["stage", "seconds", "images/s"])}

- >= 20 images/s end to end: **{'met' if rate >= 20 else 'missed'}** ({rate:.1f} images/s).

Where the time goes and what would close the gap (core/vision.py, core/tagging.py and core/describers/offline.py
belong to the offline-tagger work; measured separately on 128 of these images): the CNN runs at ~10 images/s
in PyTorch eager (depthwise convolutions, TF-style explicit padding and unfused batch norm on 2 cores);
channels_last gives 1.1x and TorchScript freeze/optimize_for_inference nothing, but the same weights exported
to ONNX and run on ONNX Runtime give ~55 images/s (5.6x, max |difference| 8e-6 in the pooled features). With
that, the colour/pattern k-means (~30 ms an image, pure numpy) becomes the largest stage: running it on a
2-thread pool beside the next CNN batch uses the second core.
"""
    print(text)
    if args.write:
        write_section(SECTION, "P4 - offline ingest + describe", text, "python bench/ingest_offline.py --write")


def _split(lab) -> tuple[float, float]:  # noqa: ANN001
    """Seconds for the CNN alone (a fresh model: the shared one caches results by image sha) and for the
    colour / pattern / type tagging alone, over every stored image."""
    from core.tagging import tag
    from core.vision import VisionModel, load_rgb

    refs = [lab.image_ref(r) for r in lab.store.items().to_dict("records")]
    fresh = VisionModel()
    fresh.analyse([refs[0].path])  # load the weights outside the timing
    cnn_s, batch = timed(lambda: fresh.analyse([r.path for r in refs]))
    tag_s, _ = timed(lambda: [tag(load_rgb(r.path), p, r.context) for r, p in zip(refs, batch.probs, strict=True)])
    return cnn_s, tag_s


if __name__ == "__main__":
    main()
