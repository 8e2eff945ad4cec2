"""`vitrine doctor`, and the check when the app opens a workspace: find vectors a crash left missing or stale and
re-embed them locally (title, visual, metadata when the catalogue has attribute columns, description runs whose
descriptions exist). Never calls a describer, paid or not: items that still need describing are reported, and
`vitrine sync` describes them after an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.lab import Lab
from core.represent.coverage import Coverage, coverage_of
from core.represent.representations import (
    METADATA,
    TITLE,
    VISUAL,
    build_metadata,
    build_title,
    build_visual,
    embed_description_run,
    metadata_columns,
)


@dataclass(frozen=True)
class Repair:
    name: str
    missing: int  # vectors embedded for items that had none
    stale: int  # vectors re-embedded because their input had changed

    def line(self) -> str:
        done = ([f"embedded {self.missing} missing vector(s)"] if self.missing else []) + (
            [f"re-embedded {self.stale} stale vector(s)"] if self.stale else [])
        return f"{self.name}: {' and '.join(done)}"


@dataclass
class DoctorReport:
    repaired: list[Repair] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # what only a describe run (or a new embedding) can fix

    def lines(self) -> list[str]:
        lines = [r.line() for r in self.repaired] + self.remaining
        return lines or ["every representation has a fresh vector for every item it can embed"]


def repair(lab: Lab) -> DoctorReport:
    """Bring title, visual and metadata to fresh coverage and re-embed description runs from their stored texts."""
    report = DoctorReport()
    items = lab.store.items()
    if items.empty:
        return report
    reps = {r["name"]: r for r in lab.store.representations().to_dict("records")}
    runs = sorted(name for name, r in reps.items() if r["kind"] == "description")
    attributes = [METADATA] if metadata_columns(items) else []
    for name in [TITLE, VISUAL, *attributes, *runs]:
        rep = reps.get(name)
        before = coverage_of(lab, rep, items) if rep else None
        if before is not None and before.complete:
            continue
        if rep and before and not before.checkable:
            report.remaining.append(f"{name}: {before.label()}; its vectors cannot be rebuilt here")
            continue
        if rep and name != VISUAL and rep["encoder"] and rep["encoder"] != lab.encoder.name:
            report.remaining.append(f"{name}: embedded with {rep['encoder']}, not {lab.encoder.name}, so it is left "
                                    "as it is")
            continue
        _rebuild(lab, name, rep)
        after = _note(report, lab, name, before, items)
        if name == METADATA and after.missing:  # an item with no attribute value has nothing to embed
            report.remaining.append(f"{name}: {len(after.missing)} item(s) have no attribute values to embed")
        elif left := len(after.missing) + len(after.stale):  # description runs: title and visual cover all
            report.remaining.append(f"{name}: {left} item(s) have no description yet of their current inputs; "
                                    "`vitrine sync` describes them (after an estimate)")
    return report


def _rebuild(lab: Lab, name: str, rep: dict | None) -> None:
    """Embed what `name` lacks with the local models; a description run embeds only the texts it already has."""
    if name == TITLE:
        build_title(lab)
    elif name == VISUAL:
        build_visual(lab)
    elif name == METADATA:
        build_metadata(lab)
    else:
        assert rep is not None  # description runs come from the registry
        embed_description_run(lab, lab.prompts.get(rep["prompt_ref"]), rep["provider"], rep["model"])


def _note(report: DoctorReport, lab: Lab, name: str, before: Coverage | None,
          items: pd.DataFrame) -> Coverage:
    """Record what a rebuild fixed, by comparing coverage before and after it."""
    after = coverage_of(lab, lab.store.representation(name), items)
    missing = (len(before.missing) if before else after.catalogue) - len(after.missing)
    stale = (len(before.stale) if before else 0) - len(after.stale)
    if missing > 0 or stale > 0:
        report.repaired.append(Repair(name, max(missing, 0), max(stale, 0)))
    return after
