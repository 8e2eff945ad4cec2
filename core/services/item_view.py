"""`vitrine show SKU`: one item, and for each representation whether its vector is fresh and what it embeds.

This is the contract for "why does this item rank here?": a stale or missing vector, or a description made for
another title, shows up here first.
"""

from __future__ import annotations

import json

from core.describe.identity import item_key
from core.describe.prompts import PromptError
from core.describe.revisions import human_revisions
from core.errors import VitrineError
from core.lab import Lab
from core.represent.coverage import coverage_of


def show_item(lab: Lab, sku: str) -> dict:
    """The item's stored fields plus, per representation: state (fresh | stale | missing | unknown) and, for
    description runs, the description it should embed now (key, text, error, human-edited or not)."""
    items = lab.store.items()
    match = items[items["sku"] == sku]
    if match.empty:
        raise VitrineError(f"no item with SKU {sku!r} in {lab.workspace.root}")
    item = {k: v for k, v in match.iloc[0].to_dict().items() if k != "extra" and v == v}
    revisions = human_revisions(lab.store)
    reps = []
    for rep in lab.store.representations().to_dict("records"):
        fact = coverage_of(lab, rep, items)
        state = ("missing" if sku in fact.missing else "stale" if sku in fact.stale
                 else "fresh" if fact.checkable else "unknown")
        entry: dict = {"name": rep["name"], "kind": rep["kind"], "state": state}
        if rep["kind"] == "description":
            entry["description"] = _description(lab, item, rep, revisions)
        reps.append(entry)
    return {"item": item, "representations": reps}


def _description(lab: Lab, item: dict, rep: dict, revisions: dict[str, str]) -> dict | None:
    try:
        prompt = lab.prompts.get(rep["prompt_ref"])
    except PromptError:
        return None
    key = item_key(item, prompt, rep["provider"], rep["model"])
    rows = lab.store.descriptions(prompt_hash=prompt.hash, provider=rep["provider"], model=rep["model"])
    row = rows[rows["key"] == key]
    if row.empty:
        return {"key": key, "text": "", "error": "not described for the item's current inputs", "edited": False}
    r = row.iloc[0]
    return {"key": key, "text": revisions.get(key, r["text"]), "error": r["error"], "edited": key in revisions,
            "attributes": json.loads(r["attributes"] or "{}")}
