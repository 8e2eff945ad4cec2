"""LanceDB housekeeping: fragment counts after a 100k-item ingest + describe + embed, and what optimize() does.

Usage: python bench/housekeeping.py [--write] [--items 100000]

The writes are Vitrine's own: what `core.catalog.ingest.ingest` writes per call (one upsert, then a compaction check),
`core.runs.describe.describe_items` (which flushes every FLUSH_EVERY results) with an instant in-process describer,
and `core.represent.representations.embed_description_run` (one batch) with the hash encoder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import table, timed, write_section

from core.catalog.store import SMALL_FRAGMENTS_TO_COMPACT, now_iso
from core.describe.prompts import PromptVersion
from core.lab import Lab, open_lab
from core.models import Attributes, Description, ImageRef
from core.nets.encoders import HashEncoder
from core.represent.representations import embed_description_run
from core.runs.describe import COMPACT_EVERY, FLUSH_EVERY, describe_items

SECTION = "perf-housekeeping"


class InstantDescriber:
    """Answers at once, so the run's cost is Vitrine's own bookkeeping and writes."""

    provider, model = "bench", "instant"

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        return Description(image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                           prompt_hash=prompt.hash, provider=self.provider, model=self.model,
                           text=f"a classic cotton item {image.sha256[:6]} for weekend outings",
                           attributes=Attributes(style=["classic"], material=["cotton"]))


def item_rows(start: int, stop: int) -> list[dict]:
    return [{"sku": f"S{i:07d}", "title": f"Item {i}", "category": "apparel", "image_sha256": f"{i:064x}",
             "image_ext": "png", "extra": "{}", "added_at": now_iso()} for i in range(start, stop)]


def upload(lab: Lab, rows: list[dict]) -> None:
    """What core.catalog.ingest.ingest writes per call once images are validated: one batch, then a compaction check."""
    lab.store.upsert_items(rows)
    lab.store.optimize_if_fragmented()


def reads(lab: Lab) -> dict[str, float]:
    """Seconds for the scans a run and the app make: the cache lookup and a run's descriptions."""
    return {"description_keys()": timed(lab.store.description_keys)[0],
            "descriptions(run)": timed(lambda: lab.store.descriptions(provider="bench", model="instant"))[0]}


def flush_cost(lab: Lab, prompt: PromptVersion) -> float:
    """Seconds for one more flush-sized write (FLUSH_EVERY descriptions) into the descriptions table."""
    describer = InstantDescriber()
    descs = [describer.describe(ImageRef(f"{10**9 + i:064x}", Path("x.png")), prompt) for i in range(FLUSH_EVERY)]
    return timed(lambda: lab.store.upsert_descriptions(descs))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--items", type=int, default=100_000, help="items ingested, in uploads of --upload")
    parser.add_argument("--upload", type=int, default=1000, help="items per ingest call")
    parser.add_argument("--described", type=int, default=20_000, help="items run through describe_items")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vitrine-hk-") as tmp:
        lab = open_lab(Path(tmp) / "ws", encoder=HashEncoder())
        ingest_s, _ = timed(lambda: [upload(lab, item_rows(i, min(args.items, i + args.upload)))
                                     for i in range(0, args.items, args.upload)])
        items_before = lab.store.fragment_counts(["items"])["items"][0]
        items_read_before, _ = timed(lab.store.items)
        prompt = lab.prompts.get("preference")
        started = time.perf_counter()
        report = describe_items(lab, lab.store.items().head(args.described), prompt, InstantDescriber(), concurrency=4)
        describe_s = time.perf_counter() - started
        embed_s, rep = timed(lambda: embed_description_run(lab, prompt, "bench", "instant"))
        vec_table = lab.store.representation(rep)["table"]
        tables = ["items", "descriptions", vec_table]
        before = lab.store.fragment_counts(tables)
        reads_before, flush_before = reads(lab), flush_cost(lab, prompt)
        optimize_s, _ = timed(lambda: lab.store.optimize(tables))
        after = lab.store.fragment_counts(tables)
        reads_after, flush_after = reads(lab), flush_cost(lab, prompt)
        items_read_after, _ = timed(lab.store.items)
        versions = len(lab.store.open_table("descriptions").list_versions())
    uploads = -(-args.items // args.upload)
    rows = [
        {"table": "items", "written by": f"{uploads} ingest calls of {args.upload:,} items ({ingest_s:.0f} s)",
         "rows": f"{args.items:,}", "fragments": items_before, "after optimize()": after["items"][0]},
        {"table": "descriptions", "written by": f"describe_items, a flush every {FLUSH_EVERY} ({describe_s:.0f} s)",
         "rows": f"{report.calls:,}", "fragments": before["descriptions"][0], "after optimize()":
         after["descriptions"][0]},
        {"table": vec_table, "written by": f"embed_description_run, 1 batch ({embed_s:.1f} s)",
         "rows": f"{report.calls:,}", "fragments": before[vec_table][0], "after optimize()": after[vec_table][0]},
    ]
    read_rows = [{"operation": k, "before": f"{reads_before[k] * 1000:.0f} ms",
                  "after optimize()": f"{reads_after[k] * 1000:.0f} ms",
                  "speed-up": f"{reads_before[k] / reads_after[k]:.1f}x"} for k in reads_before]
    read_rows += [
        {"operation": f"Store.items() ({args.items:,} rows)", "before": f"{items_read_before * 1000:.0f} ms",
         "after optimize()": f"{items_read_after * 1000:.0f} ms",
         "speed-up": f"{items_read_before / items_read_after:.1f}x"},
        {"operation": f"one more flush ({FLUSH_EVERY} descriptions, merge-insert)",
         "before": f"{flush_before * 1000:.0f} ms", "after optimize()": f"{flush_after * 1000:.0f} ms",
         "speed-up": f"{flush_before / flush_after:.1f}x"},
    ]
    text = f"""A {args.items:,}-item catalogue ingested the way `core.catalog.ingest.ingest` writes (one batched upsert per
ingest call, {uploads} calls of {args.upload:,}); {args.described:,} of its items then described with
`core.runs.describe.describe_items` (an instant in-process describer, so the cost is Vitrine's own writes) and embedded;
then `Store.optimize()` on the three tables ({optimize_s:.1f} s: compaction plus vector-index update; no version
pruned, the descriptions table still lists {versions:,} versions for undo).

{table(rows, ["table", "written by", "rows", "fragments", "after optimize()"])}

{table(read_rows, ["operation", "before", "after optimize()", "speed-up"])}

Every LanceDB commit adds a fragment: one per ingest call and one per describe flush (every {FLUSH_EVERY}
descriptions). So Vitrine checks and compacts (`Store.optimize_if_fragmented()`, at {SMALL_FRAGMENTS_TO_COMPACT}+ small
fragments) after every ingest call, every {COMPACT_EVERY:,} descriptions within a run, and at the end of every
run (`core.runs.describe.run_prompt`, `describe --batch`). The "fragments" column is what that leaves before the final
`optimize()`; a flush cost {describe_s / max(1, report.calls // FLUSH_EVERY) * 1000:.0f} ms on average up to
{args.described:,} rows.
"""
    print(text)
    if args.write:
        write_section(SECTION, "LanceDB housekeeping: fragments after a 100k-item ingest", text,
                      "python bench/housekeeping.py --write")


if __name__ == "__main__":
    main()
