"""Cold-start preview: how a new product would sit in the catalogue before anything about it is stored.

`preview` describes and embeds an uploaded image in memory (the describer reads a temporary copy) and reports its
neighbours, near-duplicates, audience reach and map position; only `add_to_catalogue` writes.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.access.audit import Action, record
from core.access.roles import require
from core.catalog.images import CleanImage, validate_image
from core.catalog.ingest import validate_sku
from core.catalog.store import now_iso
from core.describe.base import Describer
from core.describe.identity import stamped
from core.describe.prompts import PromptVersion
from core.errors import VitrineError
from core.lab import Lab
from core.models import Description, ImageRef
from core.represent.maps import MapError, Projection, place, project
from core.represent.recommend import (
    Matrix,
    Pool,
    Recommendation,
    default_representation,
    load_matrix,
    profile_vector,
    search,
    top_k,
)
from core.represent.representations import (
    TITLE,
    VISUAL,
    build_title,
    build_visual,
    embed_description_run,
    run_name,
    title_text,
)
from core.represent.shoppers import sample_shoppers

REACH_K = 10


class ColdStartError(VitrineError):
    """The new product cannot be previewed or added; the message says what to change."""


@dataclass
class Reached:
    """A sample shopper who would see the new item in their top-k: its score beat their k-th best."""

    shopper_id: str
    score: float
    cutoff: float


@dataclass
class ColdStartPreview:
    image: CleanImage
    title: str
    category: str
    prompt: PromptVersion
    description: Description
    representation: str
    vector: np.ndarray
    neighbours: list[Recommendation]
    near_duplicates: list[Recommendation]
    threshold: float
    pool: Pool  # what the neighbours were chosen from: the representation's items, not always the catalogue
    same_image: list[str] = field(default_factory=list)  # SKUs already holding these exact image bytes
    reached: list[Reached] = field(default_factory=list)
    shoppers: int = 0  # sample shoppers whose reach was evaluated (0: no interactions.csv)
    projection: Projection | None = None
    position: np.ndarray | None = None  # (x, y) on the projection, None when the map cannot be drawn
    map_note: str = ""


def preview(lab: Lab, image_bytes: bytes, title: str, category: str, *, threshold: float = 0.9,
            k: int = 10, name: str = "upload") -> ColdStartPreview:
    """Describe (active prompt and provider), embed and place a new image among the catalogue; writes nothing."""
    title, category = title.strip(), (category.strip() or "uncategorised").lower()
    if not title:
        raise ColdStartError("give the new product a title: prompts and the title representation use it")
    if not 0.0 < threshold <= 1.0:
        raise ColdStartError(f"the near-duplicate threshold must be in (0, 1] (got {threshold})")
    if k < 1:
        raise ColdStartError("k must be at least 1")
    image = validate_image(image_bytes, name)
    prompt = lab.active_prompt()
    provider, model = lab.active_provider()
    describer = lab.describer(provider, model=model or None)
    representation = _representation(lab, run_name(prompt, describer.provider, describer.model))
    m = load_matrix(lab, representation)  # every check that can fail runs before the (possibly paid) call
    kind = lab.store.representation(representation)["kind"]
    if kind == "visual":
        raise ColdStartError(f"{representation!r} holds image features; a cold-start preview needs a description "
                             "or title representation (describe the catalogue first)")
    if not m.skus:
        raise ColdStartError(f"{representation!r} holds no vectors yet: describe the catalogue first")
    description = _describe(describer, image, prompt, {"title": title, "category": category})
    text = description.text if kind == "description" else title_text({"title": title, "category": category})
    vector = lab.encoder.encode([text])[0]
    if vector.shape[0] != m.vectors.shape[1]:
        raise ColdStartError(f"the text encoder gives {vector.shape[0]}-d vectors but {representation!r} "
                             f"holds {m.vectors.shape[1]}-d ones: re-embed the catalogue with this encoder")
    duplicates = int((m.vectors @ vector >= threshold).sum())
    ranked = search(lab, text, max(k, duplicates), representation)
    items = lab.store.items()
    out = ColdStartPreview(
        image=image, title=title, category=category, prompt=prompt, description=description,
        representation=representation, vector=vector, neighbours=ranked[:k],
        near_duplicates=[r for r in ranked if r.score >= threshold], threshold=threshold, pool=ranked.pool,
        same_image=items.loc[items["image_sha256"] == image.sha256, "sku"].tolist(),
    )
    histories = sample_shoppers(lab)
    out.shoppers, out.reached = len(histories), audience_reach(m, vector, histories)
    try:
        out.projection = project(lab, representation)
        out.position = place(out.projection, vector)[0]
    except MapError as exc:
        out.map_note = str(exc)
    return out


def audience_reach(m: Matrix, vector: np.ndarray, histories: dict[str, list[str]],
                   k: int = REACH_K) -> list[Reached]:
    """Shoppers (profile = mean of their history) whose top-k the new item would enter, best match first."""
    reached = []
    for shopper_id, history in histories.items():
        try:
            profile, rows = profile_vector(m, history)
        except VitrineError:  # none of their history items has a vector in this representation
            continue
        _, scores = top_k(m.vectors, profile, k, rows)
        cutoff = float(scores[-1]) if len(scores) == k else -np.inf
        score = float(profile @ vector)
        if score > cutoff:
            reached.append(Reached(shopper_id, score, cutoff))
    return sorted(reached, key=lambda r: -r.score)


def add_to_catalogue(lab: Lab, preview: ColdStartPreview, sku: str) -> list[str]:
    """The only write: image, item row and description, then the representations that should hold it."""
    require(lab.store, Action.INGEST)
    try:
        sku = validate_sku(sku)
    except ValueError as exc:
        raise ColdStartError(str(exc)) from exc
    if sku in set(lab.store.items()["sku"]):
        raise ColdStartError(f"SKU {sku} is already in the catalogue; choose a new SKU (nothing was written)")
    lab.images.put(preview.image)
    lab.store.upsert_items([{
        "sku": sku, "title": preview.title, "category": preview.category, "image_sha256": preview.image.sha256,
        "image_ext": preview.image.ext, "extra": json.dumps({}), "added_at": now_iso(),
    }])
    lab.store.upsert_descriptions([preview.description])
    existing = set(lab.store.representations()["name"])
    desc = preview.description
    updated = []
    if run_name(preview.prompt, desc.provider, desc.model) in existing:
        updated.append(embed_description_run(lab, preview.prompt, desc.provider, desc.model))
    if TITLE in existing:
        updated.append(build_title(lab))
    if VISUAL in existing:
        updated.append(build_visual(lab))
    record(lab.store, Action.INGEST, skus=[sku], detail=f"added from Cold-start Preview ({preview.title})")
    return updated


def _describe(describer: Describer, image: CleanImage, prompt: PromptVersion, context: dict[str, str]) -> Description:
    """Describe a temporary copy of the image: the image store only receives it on add_to_catalogue."""
    with tempfile.TemporaryDirectory(prefix="vitrine-coldstart-") as tmp:
        path = Path(tmp) / f"{image.sha256}.{image.ext}"
        path.write_bytes(image.data)
        try:
            description = describer.describe(ImageRef(image.sha256, path, context), prompt)
        except VitrineError:
            raise
        except Exception as exc:
            raise ColdStartError(f"{describer.provider} could not describe the image: "
                                 f"{type(exc).__name__}: {exc}") from exc
    if description.error or not description.text.strip():
        raise ColdStartError(f"{describer.provider} returned no usable description: "
                             f"{description.error or 'empty text'}")
    return stamped(description, prompt, context)  # keyed as the catalogue item it becomes on add_to_catalogue


def _representation(lab: Lab, active_run: str) -> str:
    """The active run's representation when the catalogue has been embedded under it, else the default."""
    return active_run if active_run in set(lab.store.representations()["name"]) else default_representation(lab)
