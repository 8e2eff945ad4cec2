"""What leaves Vitrine for other tools: formula-safe CSV, and product copy (text plus facets per SKU) for a PIM."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import pandas as pd

from core.describe.identity import run_descriptions
from core.describe.revisions import human_facets, human_revisions, reviews
from core.errors import VitrineError
from core.lab import Lab
from core.models import Attributes
from core.safe_text import formula_safe_csv
from core.services.runs import resolve_run

COPY_FORMATS = ("csv", "jsonl", "parquet")


@dataclass
class CopyExport:
    """The rows a PIM gets, and every catalogue item that is not among them, counted by why."""

    run: str
    frame: pd.DataFrame
    missing: list[str] = field(default_factory=list)  # no description of the item's current inputs
    failed: list[str] = field(default_factory=list)  # the current description is a recorded failure
    not_approved: list[str] = field(default_factory=list)  # described, but left out by approved_only

    def notes(self) -> list[str]:
        """One line per reason an item was left out, so nothing is dropped silently."""
        reasons = ((self.missing, "have no description of their current inputs under the run"),
                   (self.failed, "have a failed description under the run"),
                   (self.not_approved, "are not approved in QA (left out: approved only)"))
        return [f"{len(skus):,} item(s) {why}: {_some(skus)}" for skus, why in reasons if skus]


def _some(skus: list[str], shown: int = 5) -> str:
    return ", ".join(skus[:shown]) + (f" and {len(skus) - shown:,} more" if len(skus) > shown else "")


def product_copy(lab: Lab, run: str | None = None, *, approved_only: bool = False) -> CopyExport:
    """Each item's current description under the run (default: the active run), a human edit (of text or facets)
    winning, with its facets and QA status; approved_only keeps the approved ones (edited-and-approved included)."""
    items = lab.store.items()
    if items.empty:
        raise VitrineError("the catalogue is empty: nothing to export")
    ref = resolve_run(lab, run)
    current = run_descriptions(lab.store, items, ref.prompt, ref.provider, ref.model).merge(
        items[["sku", "title", "category"]], on="sku").sort_values("sku", kind="stable")
    ok = current[current["error"] == ""]
    stored = reviews(lab.store)
    status = ok["key"].map(dict(zip(stored["key"], stored["status"], strict=True))).fillna("").replace("", "unreviewed")
    edits, facet_edits = human_revisions(lab.store), human_facets(lab.store)
    facets = [Attributes.model_validate_json(facet_edits.get(key) or attrs or "{}")
              for key, attrs in zip(ok["key"], ok["attributes"], strict=True)]
    frame = pd.DataFrame({
        "sku": ok["sku"], "title": ok["title"], "category": ok["category"], "run": ref.run,
        "text": ok["key"].map(edits).fillna(ok["text"]),
        **{f: ["; ".join(a.facet(f)) for a in facets] for f in ref.prompt.facets},
        "status": status, "edited": ok["key"].isin(edits.keys() | facet_edits.keys()), "description_key": ok["key"],
    }).reset_index(drop=True)
    keep = frame["status"] == "approved" if approved_only else pd.Series(True, index=frame.index)
    return CopyExport(ref.run, frame[keep].reset_index(drop=True),
                      missing=current.loc[current["error"].isna(), "sku"].tolist(),
                      failed=current.loc[current["error"].fillna("") != "", "sku"].tolist(),
                      not_approved=frame.loc[~keep, "sku"].tolist())


def copy_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The export in one of COPY_FORMATS: CSV formula-safe, JSON lines and Parquet with the values as they are."""
    if fmt == "csv":
        return formula_safe_csv(frame)
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in frame.to_dict("records")).encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    raise VitrineError(f"unknown export format {fmt!r}; choose one of: {', '.join(COPY_FORMATS)}")
