"""`vitrine show SKU` and the item detail page: one item, each representation's freshness and what it embeds,
every run's description of it and its neighbours per representation.

This is the contract for "why does this item rank here?": a stale or missing vector, or a description made for
another title, shows up here first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from core.describe.identity import item_key
from core.describe.prompts import PromptError
from core.describe.revisions import human_facets, human_revisions, reviews
from core.errors import VitrineError
from core.lab import Lab
from core.represent.coverage import coverage_of
from core.represent.recommend import Ranking, recommend

DESCRIPTION_COLUMNS = ["run", "current", "text", "edited", "status", "reason", "reviewer", "attributes", "error",
                       "created_at", "key"]


def _item(lab: Lab, items: pd.DataFrame, sku: str) -> dict:
    """The item's stored fields with its metadata columns (NaN: a column other items have)."""
    match = items[items["sku"] == sku]
    if match.empty:
        raise VitrineError(f"no item with SKU {sku!r} in {lab.workspace.root}")
    return {k: v for k, v in match.iloc[0].to_dict().items() if k != "extra" and v == v}


def show_item(lab: Lab, sku: str) -> dict:
    """The item's stored fields plus, per representation: state (fresh | stale | missing | unknown) and, for
    description runs, the description it should embed now (key, text, error, human-edited or not)."""
    items = lab.store.items()
    item = _item(lab, items, sku)
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


@dataclass
class ItemDetail:
    """What the item detail page shows; `missing` says why a representation has no neighbours for the item."""

    item: dict
    image_path: str
    descriptions: pd.DataFrame  # DESCRIPTION_COLUMNS, one row per run that described the item's image
    neighbours: dict[str, Ranking]
    missing: dict[str, str]


def item_detail(lab: Lab, sku: str, k: int = 6) -> ItemDetail:
    """One item with every run's description of its image (human revisions winning, review status, whether it
    is current for the item's inputs) and its k nearest items under each representation that holds it."""
    items = lab.store.items()
    item = _item(lab, items, sku)
    neighbours: dict[str, Ranking] = {}
    missing: dict[str, str] = {}
    for name in lab.store.representations()["name"]:
        try:
            neighbours[name] = recommend(lab, [sku], k, name, explain=False)
        except VitrineError as exc:
            missing[name] = f"no vector for {sku} ({exc})"
    return ItemDetail(item, str(lab.images.path(item["image_sha256"], item["image_ext"])),
                      _runs(lab, item), neighbours, missing)


def _runs(lab: Lab, item: dict) -> pd.DataFrame:
    descs = lab.store.descriptions()
    descs = descs[descs["image_sha256"] == item["image_sha256"]]
    texts, facets = human_revisions(lab.store), human_facets(lab.store)
    stored = reviews(lab.store).set_index("key")
    rows = []
    for d in descs.sort_values(["prompt_name", "prompt_version", "provider", "model"]).to_dict("records"):
        ref = f"{d['prompt_name']}@v{d['prompt_version']}"
        try:
            current = d["key"] == item_key(item, lab.prompts.get(ref), d["provider"], d["model"])
        except PromptError:
            current = False  # its prompt is gone: it cannot be checked against the item's inputs
        review = stored.loc[d["key"]].to_dict() if d["key"] in stored.index else {}
        rows.append({"run": f"{ref}/{d['provider']}/{d['model']}", "current": current,
                     "text": texts.get(d["key"], d["text"]), "edited": d["key"] in texts or d["key"] in facets,
                     "status": review.get("status") or "unreviewed", "reason": review.get("reason") or "",
                     "reviewer": review.get("reviewer") or "",
                     "attributes": json.loads(facets.get(d["key"]) or d["attributes"] or "{}"),
                     "error": d["error"], "created_at": d["created_at"], "key": d["key"]})
    return pd.DataFrame(rows, columns=DESCRIPTION_COLUMNS)
