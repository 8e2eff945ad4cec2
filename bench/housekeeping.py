"""LanceDB housekeeping: fragment counts after a 100k-item ingest + describe + embed, and what optimize() does.

Usage: python bench/housekeeping.py [--write] [--items 100000]

The writes are Vitrine's own: one `Store.upsert_items` batch (what `core.ingest.ingest` writes per call),
`core.runs.describe_items` (which flushes every FLUSH_EVERY results) with an instant in-process describer,
and `core.representations.embed_description_run` (one batch) with the hash encoder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import table, timed, write_section  # noqa: I001 - sets sys.path first

import pandas as pd

from core.encoders import HashEncoder
from core.lab import Lab, open_lab
from core.models import Attributes, Description, ImageRef
from core.prompts import PromptVersion
from core.representations import embed_description_run
from core.runs import FLUSH_EVERY, describe_items
from core.store import now_iso

SECTION = "perf-housekeeping"


class InstantDescriber:
    """Answers at once, so the run's cost is Vitrine's own bookkeeping and writes."""

    provider, model = "bench", "instant"

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        return Description(image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=self.provider, model=self.model,
                           text=f"a classic cotton item {image.sha256[:6]} for weekend outings",
                           attributes=Attributes(style=["classic"], material=["cotton"]))


def stock(lab: Lab, n: int) -> None:
    lab.store.upsert_items([{"sku": f"S{i:07d}", "title": f"Item {i}", "category": "apparel",
                             "image_sha256": f"{i:064x}", "image_ext": "png", "extra": "{}", "added_at": now_iso()}
                            for i in range(n)])


def reads(lab: Lab) -> dict[str, float]:
    """Seconds for the scans a run and the app make: the cache lookup and the run's descriptions."""
    return {"description_keys()": timed(lab.store.description_keys)[0],
            "descriptions(run)": timed(lambda: lab.store.descriptions(provider="bench", model="instant"))[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vitrine-hk-") as tmp:
        lab = open_lab(Path(tmp) / "ws", encoder=HashEncoder())
        ingest_s, _ = timed(lambda: stock(lab, args.items))
        prompt = lab.prompts.get("preference")
        items = lab.store.items()
        started = time.perf_counter()
        report = describe_items(lab, items, prompt, InstantDescriber(), concurrency=4)
        describe_s = time.perf_counter() - started
        embed_s, rep = timed(lambda: embed_description_run(lab, prompt, "bench", "instant"))
        vec_table = lab.store.representation(rep)["table"]
        tables = ["items", "descriptions", vec_table]
        before = lab.store.fragment_counts(tables)
        reads_before = reads(lab)
        optimize_s, changed = timed(lambda: lab.store.optimize(tables))
        after = lab.store.fragment_counts(tables)
        reads_after = reads(lab)
        versions = len(lab.store.open_table("descriptions").list_versions())
    rows = [{"table": t, "written by": w, "fragments": before[t][0], "small fragments": before[t][1],
             "after optimize()": after[t][0]}
            for t, w in (("items", f"1 upsert_items batch ({ingest_s:.1f} s)"),
                         ("descriptions", f"describe_items, a flush every {FLUSH_EVERY} ({describe_s:.0f} s)"),
                         (vec_table, f"embed_description_run, 1 batch ({embed_s:.1f} s)"))]
    read_rows = [{"read": k, "before": f"{reads_before[k] * 1000:.0f} ms", "after optimize()":
                  f"{reads_after[k] * 1000:.0f} ms", "speed-up": f"{reads_before[k] / reads_after[k]:.1f}x"}
                 for k in reads_before]
    text = f"""A {args.items:,}-item catalogue written the way Vitrine writes it ({report.calls:,} descriptions), then
`Store.optimize()` on the three tables ({optimize_s:.1f} s; compaction plus index update; no version pruned:
the descriptions table still lists {versions:,} versions for undo).

{table(rows, ["table", "written by", "fragments", "small fragments", "after optimize()"])}

{table(read_rows, ["read", "before", "after optimize()", "speed-up"])}

Every flush is a batched merge-insert and a LanceDB commit, so a describe run leaves about
items / {FLUSH_EVERY} fragments in `descriptions`. `Store.optimize_if_fragmented()` (32+ small fragments)
is cheap enough to call after every run; `describe --batch` does so after ingesting. Suggested for
`core.runs.run_prompt` too (it is not called there yet).
"""
    print(text)
    if args.write:
        write_section(SECTION, "LanceDB housekeeping: fragments after a 100k-item run", text,
                      "python bench/housekeeping.py --write")


if __name__ == "__main__":
    main()
