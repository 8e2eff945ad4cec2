"""The cold-start report a merchandiser takes out of the room: one preview as Markdown and as formula-safe CSV.

Every figure is one core.services.coldstart already computed, named here the way the report defines it:
- neighbours: the k catalogue items whose vectors in the representation are nearest the new product's by cosine;
- cannibalisation risk: catalogue items at cosine ≥ the near-duplicate threshold, and SKUs that already hold the
  exact same image bytes;
- audience reach: sample shoppers (interactions.csv) whose profile, the mean of their history's vectors, scores the
  new product above their own REACH_K-th best catalogue item (history excluded): it would enter their top REACH_K;
- placement: the categories of the k neighbours, and the product's position on the representation's semantic map
  (placed into the existing projection, not refitted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from core.catalog.store import now_iso
from core.safe_text import escape_markdown, formula_safe_csv
from core.services.coldstart import REACH_K, ColdStartPreview

CSV_COLUMNS = ["section", "rank", "id", "title", "category", "cosine", "cutoff", "note"]


def md(value: object) -> str:
    """Catalogue or model text as a Markdown literal: no link, image or table cell it could open or break."""
    return escape_markdown(value).replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True)
class Placement:
    categories: list[tuple[str, int]]  # the neighbours' categories, most common first (ties by name)
    neighbours: int
    declared: str
    x: float | None  # on the map; None when it could not be drawn (map_note says why)
    y: float | None
    map_note: str

    @property
    def declared_share(self) -> float:
        return dict(self.categories).get(self.declared, 0) / self.neighbours if self.neighbours else 0.0

    def sentence(self) -> str:
        mix = ", ".join(f"{c} {n} of {self.neighbours}" for c, n in self.categories)
        top = self.categories[0][0] if self.categories else ""
        verdict = (f"the declared category {self.declared!r} is the most common among them" if top == self.declared
                   else f"the declared category {self.declared!r} is {self.declared_share:.0%} of them; "
                        f"{top!r} is the most common")
        return f"Neighbour categories: {mix}; {verdict}."


def placement(p: ColdStartPreview) -> Placement:
    counts = Counter(r.category for r in p.neighbours)
    position = p.position if p.projection is not None and p.position is not None else None
    return Placement(sorted(counts.items(), key=lambda c: (-c[1], c[0])), len(p.neighbours), p.category,
                     None if position is None else float(position[0]), None if position is None else float(position[1]),
                     p.map_note)


def _cell(value: object) -> str:
    """Numbers as numbers (cosines to 3 places), text as a Markdown literal."""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value) if isinstance(value, int) else md(value)


def _table(columns: list[str], rows: list[list[object]]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(map(_cell, row)) + " |" for row in rows)]


def report_markdown(p: ColdStartPreview) -> str:
    """The whole preview as a Markdown document (definitions first, every figure with its n)."""
    place = placement(p)
    desc = p.description
    lines = [
        f"# Cold-start report: {md(p.title)}", "",
        f"Generated {now_iso()}. A preview: nothing was added to the catalogue.", "",
        f"- Category as entered: {md(p.category)}",
        f"- Described with {md(p.prompt.ref)} via {md(desc.provider)}/{md(desc.model)}",
        f"- Representation: {md(p.representation)}, compared with {p.pool.covered:,} of {p.pool.catalogue:,} "
        "catalogue items" + (f" ({md(p.pool.coverage_note())})" if p.pool.partial else ""),
        f"- Description: {md(desc.text)}", "",
        "## Definitions", "",
        f"- **Neighbours**: the {len(p.neighbours)} catalogue items nearest the new product by cosine in the "
        "representation.",
        f"- **Cannibalisation risk**: catalogue items at cosine ≥ {p.threshold:.2f} (near-duplicates), and SKUs that "
        "already hold these exact image bytes.",
        f"- **Audience reach**: sample shoppers whose profile (mean of their history's vectors) scores the new product "
        f"above their own #{REACH_K} catalogue item (history excluded): it would enter their top {REACH_K}.",
        "- **Placement**: the neighbours' categories, and the position on the representation's semantic map (placed "
        "into the existing projection, not refitted).", "",
        "## Cannibalisation risk", "",
    ]
    if p.near_duplicates:
        lines += [f"{len(p.near_duplicates)} catalogue item(s) at cosine ≥ {p.threshold:.2f}:", "",
                  *_table(["sku", "title", "category", "cosine"],
                          [[r.sku, r.title, r.category, r.score] for r in p.near_duplicates]), ""]
    else:
        lines += [f"No compared catalogue item is at cosine ≥ {p.threshold:.2f}.", ""]
    lines += [f"Same image already in the catalogue as: {md(', '.join(p.same_image))}." if p.same_image else
              "No catalogue item holds the same image.", "",
              "## Neighbours", "",
              *_table(["rank", "sku", "title", "category", "cosine"],
                      [[i, r.sku, r.title, r.category, r.score] for i, r in enumerate(p.neighbours, 1)]), "",
              "## Audience reach", ""]
    if p.shoppers == 0:
        lines += ["Not measured: the workspace has no interactions.csv, so there are no sample shoppers.", ""]
    else:
        lines += [f"{len(p.reached)} of {p.shoppers} sample shoppers ({len(p.reached) / p.shoppers:.0%}) would see it "
                  f"in their top {REACH_K}.", ""]
        if p.reached:
            lines += [*_table(["shopper", "score", f"their #{REACH_K} score"],
                              [[r.shopper_id, r.score, r.cutoff] for r in p.reached]), ""]
    lines += ["## Placement", "", md(place.sentence()), "",
              f"Map position: ({place.x:.3f}, {place.y:.3f})." if place.x is not None and place.y is not None
              else f"Map position: not drawn ({md(place.map_note)}).", ""]
    return "\n".join(lines)


def report_frame(p: ColdStartPreview) -> pd.DataFrame:
    """One row per fact, in CSV_COLUMNS: summary, near-duplicate, same image, neighbour, reached shopper, placement."""
    desc, place = p.description, placement(p)
    rows: list[dict] = [{"section": "summary", "id": key, "note": value} for key, value in (
        ("title", p.title), ("category", p.category), ("prompt", p.prompt.ref),
        ("describer", f"{desc.provider}/{desc.model}"), ("representation", p.representation),
        ("compared items", f"{p.pool.covered} of {p.pool.catalogue}"), ("description", desc.text),
        ("near-duplicate threshold", f"{p.threshold:.2f}"),
        ("audience reach", f"{len(p.reached)} of {p.shoppers} sample shoppers (top {REACH_K})" if p.shoppers
         else "not measured: no interactions.csv"))]
    rows += [{"section": "near-duplicate", "rank": i, "id": r.sku, "title": r.title, "category": r.category,
              "cosine": r.score} for i, r in enumerate(p.near_duplicates, 1)]
    rows += [{"section": "same image", "id": sku} for sku in p.same_image]
    rows += [{"section": "neighbour", "rank": i, "id": r.sku, "title": r.title, "category": r.category,
              "cosine": r.score} for i, r in enumerate(p.neighbours, 1)]
    rows += [{"section": "reached shopper", "rank": i, "id": r.shopper_id, "cosine": r.score, "cutoff": r.cutoff}
             for i, r in enumerate(p.reached, 1)]
    rows += [{"section": "placement", "id": "neighbour category", "category": c, "note": f"{n} of {place.neighbours}"}
             for c, n in place.categories]
    rows.append({"section": "placement", "id": "map position",
                 "note": f"{place.x:.4f}, {place.y:.4f}" if place.x is not None and place.y is not None
                 else f"not drawn: {place.map_note}"})
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def report_csv(p: ColdStartPreview) -> bytes:
    """report_frame as CSV a spreadsheet cannot run: titles, SKUs and model text come from outside."""
    return formula_safe_csv(report_frame(p))
