"""Coverage as a fact: which catalogue items each representation holds a vector for, and which are stale.

A vector is stale when its input changed after it was embedded: a title edit (title), a replaced image (visual), an
edited attribute column (metadata), or a description that is no longer the item's (new title, new image) or was
revised (description runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.describe.prompts import PromptError
from core.errors import VitrineError
from core.lab import Lab
from core.nets.encoders import text_sha
from core.represent.representations import description_inputs, metadata_inputs, title_inputs, visual_inputs


@dataclass(frozen=True)
class Coverage:
    """One representation against the catalogue as it is now."""

    name: str
    kind: str
    catalogue: int
    covered: int  # catalogue items with a vector (fresh or stale)
    stale: tuple[str, ...]
    missing: tuple[str, ...]
    checkable: bool = True  # False when the inputs cannot be rebuilt (e.g. the run's prompt file is gone)

    @property
    def fraction(self) -> float:
        return self.covered / self.catalogue if self.catalogue else 0.0

    @property
    def complete(self) -> bool:
        """Full and fresh: every catalogue item has a vector of its current inputs."""
        return not self.missing and not self.stale

    def label(self) -> str:
        """'184 of 209 items (3 stale)', the phrase shown wherever a representation is chosen."""
        text = f"{self.covered:,} of {self.catalogue:,} items"
        if self.stale:
            text += f" ({len(self.stale):,} stale)"
        return text if self.checkable else text + " (freshness unknown: its prompt file is gone)"


def _expected(lab: Lab, rep: dict, items: pd.DataFrame) -> dict[str, tuple[str, str]] | None:
    """What the representation's vectors should embed now, per sku; None when that cannot be known."""
    if rep["kind"] == "title":
        return title_inputs(items)
    if rep["kind"] == "visual":
        return visual_inputs(lab, items)
    if rep["kind"] == "metadata":
        return metadata_inputs(items)
    if rep["kind"] == "description":
        try:
            prompt = lab.prompts.get(rep["prompt_ref"])
        except PromptError:
            return None
        if prompt.hash != rep["prompt_hash"]:
            return None
        return description_inputs(lab, items, prompt, rep["provider"], rep["model"])
    return None


def coverage_of(lab: Lab, rep: dict, items: pd.DataFrame | None = None) -> Coverage:
    """Coverage of one registry row (lab.store.representations()) against the current catalogue."""
    items = lab.store.items() if items is None else items
    skus = items["sku"].tolist() if len(items) else []
    stored = lab.store.vector_text_shas(rep["table"])
    expected = _expected(lab, rep, items)
    missing = tuple(s for s in skus if s not in stored)
    present = [s for s in skus if s in stored]
    stale = () if expected is None else tuple(
        s for s in present if s not in expected or stored[s] != text_sha(expected[s][1]))
    return Coverage(rep["name"], rep["kind"], len(skus), len(present), stale, missing, expected is not None)


def coverage(lab: Lab, name: str) -> Coverage:
    return coverage_of(lab, lab.store.representation(name))


def list_representations(lab: Lab) -> pd.DataFrame:
    """Registry rows plus coverage: count (catalogue items with a vector), catalogue, coverage (their share),
    stale (vectors older than their inputs), missing (items without a vector) and label (Coverage.label())."""
    reps = lab.store.representations()
    items = lab.store.items()
    facts = [coverage_of(lab, row, items) for row in reps.to_dict("records")]
    return reps.assign(count=[f.covered for f in facts], catalogue=[f.catalogue for f in facts],
                       coverage=[round(f.fraction, 4) for f in facts], stale=[len(f.stale) for f in facts],
                       missing=[len(f.missing) for f in facts], complete=[f.complete for f in facts],
                       label=[f.label() for f in facts])


def require_complete(lab: Lab, name: str, purpose: str) -> Coverage:
    """Refuse to rank or compare over a partial pool without saying so: the error names what is missing."""
    fact = coverage(lab, name)
    if not fact.complete:
        raise VitrineError(f"{name} covers {fact.label()}; {purpose} needs the whole catalogue: run "
                           "`vitrine sync` (or Sync on the Home page) first")
    return fact
