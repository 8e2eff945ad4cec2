"""Description QA: human reviews (approve / flag / edit) beside the untouched model output, plus automatic flags.

Reviews live in their own `qa_reviews` table keyed by description key; the model's row in `descriptions`
is never modified, so an edit is a human revision layered on top and the original stays visible.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
from PIL import Image

from core.access import audit
from core.access.actor import current as current_actor
from core.access.roles import require
from core.catalog import journal
from core.catalog.store import DESCRIPTION_SCHEMA, Store, now_iso, sql_str, vector_rows
from core.describe.identity import item_context, run_descriptions
from core.describe.prompts import PromptError, PromptVersion
from core.describe.registry import provider_names
from core.describe.revisions import QA_TABLE, REVIEW_SCHEMA, reviews
from core.describe.tagging import NamedColour, analysis_pixels, dominant_colours, foreground_mask, srgb_to_lab
from core.errors import VitrineError
from core.lab import Lab
from core.models import FACETS, Attributes, Progress, description_key
from core.nets.encoders import text_sha
from core.represent.representations import run_name
from core.runs.describe import RunReport
from core.runs.prompt import run_prompt
from core.safe_text import formula_safe_csv
from core.services.qa_flags import ItemFacts, auto_flags, colour_words, shared_text_flags
from core.workers import in_worker_process

STATUSES = ("approved", "flagged", "edited")
STATUS_FILTERS = (*STATUSES, "unreviewed", "auto-flagged", "failed")
COLUMNS = ["key", "sku", "title", "category", "image_sha256", "image_path", "prompt_ref", "provider", "model",
           "text", "original_text", "attributes", "original_attributes", "status", "edited", "auto_flags", "reason",
           "note", "edited_at", "error", "revision", "reviewer"]
COLOURS_TABLE = "image_colours"  # image sha -> its named foreground colours, analysed once per image
COLOURS_RECIPE = 2  # bump when the colour analysis changes, so colours from an older analysis are redone
COLOURS_SCHEMA = pa.schema([
    ("image_sha256", pa.string()),
    ("recipe", pa.int32()),
    ("colours", pa.string()),  # JSON list of [name, share, [r, g, b]], largest share first
])

THUMB_SIDE = 64
REVIEW_ACTIONS = {"approved": audit.Action.APPROVE, "flagged": audit.Action.FLAG, "edited": audit.Action.EDIT}


# --- image colours for the colour check -----------------------------------------------------------

@lru_cache(maxsize=4096)
def dominant_image_colours(image_path: str) -> tuple[NamedColour, ...]:
    """Named foreground colours of an image with their share and mean sRGB, largest share first; () when unreadable.

    Cached on the path alone because image paths are content-addressed (images/<sha256>.<ext>).
    """
    try:
        with Image.open(image_path) as img:
            rgb = analysis_pixels(img)
    except (OSError, ValueError):
        return ()
    lab = srgb_to_lab(rgb)
    return tuple(dominant_colours(rgb, foreground_mask(lab), lab=lab))


def dominant_colour_names(image_path: str) -> tuple[str, ...]:
    """Named foreground colours of an image, largest share first; () when unreadable."""
    return tuple(c.name.lower() for c in dominant_image_colours(image_path))


_PENDING: dict[str, Future] = {}  # workspace database -> colours being analysed in a worker process
_PENDING_LOCK = threading.Lock()


def image_colours(lab: Lab, images: dict[str, str], *, wait: bool = True) -> dict[str, tuple[NamedColour, ...]]:
    """Image sha -> dominant colours for the given {sha: path}; each image is analysed once per workspace.

    Results are stored by image content (the `image_colours` table), so a new server or a new QA visit reads them
    back instead of decoding 1,000 images again. Images a warm-up worker is analysing are waited for, or with
    wait=False left out of the answer until the worker has stored them.
    """
    with _PENDING_LOCK:
        pending = _PENDING.get(lab.store.uri)
        if pending is not None and (wait or pending.done()):
            del _PENDING[lab.store.uri]
    if pending is not None and not wait and not pending.done():
        known = _stored_colours(lab.store)
        return {sha: known[sha] for sha in images if sha in known}
    if pending is not None:
        pending.exception()  # wait; a failed warm-up only means the colours are analysed here instead
    known = _stored_colours(lab.store)
    missing = {sha: path for sha, path in images.items() if sha not in known}
    if missing:
        known |= _analyse_and_store(lab.store.uri, missing)
    return {sha: known[sha] for sha in images}


def colours_pending(lab: Lab) -> bool:
    """Whether a warm-up worker is still analysing image colours for this workspace."""
    with _PENDING_LOCK:
        pending = _PENDING.get(lab.store.uri)
    return pending is not None and not pending.done()


def warm_colours(lab: Lab) -> Future | None:
    """Start analysing the colours of described images not analysed yet, in a worker process (not this one's GIL).

    Called when the app opens, so that Description QA's first visit finds the colour check done or under way.
    """
    with _PENDING_LOCK:
        pending = _PENDING.get(lab.store.uri)
    if pending is not None and not pending.done():
        return pending
    items = lab.store.items()[["image_sha256", "image_ext"]].drop_duplicates("image_sha256")
    described = set(lab.store.descriptions()["image_sha256"])
    known = _stored_colours(lab.store)
    missing = {r.image_sha256: str(lab.images.path(r.image_sha256, r.image_ext))
               for r in items.itertuples() if r.image_sha256 in described and r.image_sha256 not in known}
    if not missing:
        return None
    with _PENDING_LOCK:
        if lab.store.uri not in _PENDING:
            _PENDING[lab.store.uri] = in_worker_process(_analyse_and_store, lab.store.uri, missing)
        return _PENDING[lab.store.uri]


def _stored_colours(store: Store) -> dict[str, tuple[NamedColour, ...]]:
    rows = store.frame(COLOURS_TABLE, COLOURS_SCHEMA, f"recipe = {COLOURS_RECIPE}")
    return {sha: tuple(NamedColour(name, share, (r, g, b)) for name, share, (r, g, b) in json.loads(c))
            for sha, c in zip(rows["image_sha256"], rows["colours"], strict=True)}


def _analyse_and_store(uri: str, images: dict[str, str]) -> dict[str, tuple[NamedColour, ...]]:
    """Analyse images and store their colours; unreadable ones are stored as () and not retried."""
    colours = {sha: dominant_image_colours(path) for sha, path in images.items()}
    Store(uri).upsert_rows(COLOURS_TABLE, COLOURS_SCHEMA, [
        {"image_sha256": sha, "recipe": COLOURS_RECIPE,
         "colours": json.dumps([[c.name, c.share, list(c.rgb)] for c in found])}
        for sha, found in colours.items()], "image_sha256")
    return colours


# --- the review table -----------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _thumb_uri(thumb_path: str) -> str | None:
    """A small JPEG data URI, because st.column_config.ImageColumn cannot read local files."""
    try:
        with Image.open(thumb_path) as opened:
            img = opened.convert("RGB")
            img.thumbnail((THUMB_SIDE, THUMB_SIDE))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=80)
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _prompt(lab: Lab, ref: str, cache: dict[str, PromptVersion | None]) -> PromptVersion | None:
    """A description's prompt version; None when its file is gone (then facets cannot be checked)."""
    if ref not in cache:
        try:
            cache[ref] = lab.prompts.get(ref)
        except PromptError:
            cache[ref] = None
    return cache[ref]


def _current(lab: Lab, items: pd.DataFrame, rows: pd.DataFrame) -> list[bool]:
    """Which (item, description) rows describe the item as it is now: a description made for an older title of
    the item, or for another item sharing its image, is not this item's (its prompt gone: kept, unverifiable)."""
    contexts = {r["sku"]: item_context(r) for r in items.to_dict("records")}
    prompts: dict[str, PromptVersion | None] = {}
    keep = []
    for r in rows[["sku", "key", "prompt_ref", "image_sha256", "provider", "model"]].itertuples(index=False):
        prompt = _prompt(lab, r.prompt_ref, prompts)
        keep.append(prompt is None or r.key == description_key(
            r.image_sha256, prompt.hash, r.provider, r.model, inputs_hash=prompt.inputs_hash(contexts[r.sku])))
    return keep


def _build(lab: Lab, wait_for_colours: bool) -> pd.DataFrame:
    items = lab.store.items()
    descs = lab.store.descriptions()
    if items.empty or descs.empty:
        return pd.DataFrame(columns=COLUMNS)
    descs = descs.assign(prompt_ref=descs["prompt_name"] + "@v" + descs["prompt_version"].astype(str))
    rows = items[["sku", "title", "category", "image_sha256", "image_ext", "extra"]].merge(descs, on="image_sha256")
    rows = rows[_current(lab, items, rows)]
    stored = reviews(lab.store).drop(columns="reviewed_at")
    rows = rows.merge(stored, on="key", how="left")
    for col in stored.columns:
        rows[col] = rows[col].fillna("")
    rows["original_text"] = rows["text"]
    rows["text"] = rows["edited_text"].where(rows["edited_text"] != "", rows["text"])
    rows["edited"] = (rows["edited_text"] != "") | (rows["edited_attributes"] != "")  # approving keeps it edited
    rows["image_path"] = [str(lab.images.path(sha, ext)) for sha, ext in zip(rows["image_sha256"], rows["image_ext"],
                                                                            strict=True)]
    checked = (rows["error"] == "") & rows["text"].map(colour_words).map(bool)  # only these need image colours
    colours = image_colours(lab, dict(zip(rows.loc[checked, "image_sha256"], rows.loc[checked, "image_path"],
                                          strict=True)), wait=wait_for_colours)
    prompts: dict[str, PromptVersion | None] = {}
    ok = rows["error"] == ""
    shared = shared_text_flags(rows["text"].where(ok, "").tolist(), rows["title"].tolist(),
                               rows["image_sha256"].tolist())
    attrs, originals, flags = [], [], []
    for r, also in zip(rows[["text", "attributes", "edited_attributes", "error", "prompt_ref", "image_sha256",
                             "title", "category", "extra", "provider"]].itertuples(index=False), shared, strict=True):
        original = Attributes.model_validate_json(r.attributes or "{}")
        attributes = Attributes.model_validate_json(r.edited_attributes) if r.edited_attributes else original
        item = ItemFacts(r.title, r.category, json.loads(r.extra or "{}"))
        flags.append([] if r.error else auto_flags(r.text, attributes, _prompt(lab, r.prompt_ref, prompts),
                                                   colours.get(r.image_sha256, ()), item, r.provider)
                                        + ([also] if also else []))
        attrs.append(attributes.model_dump())
        originals.append(original.model_dump())
    rows = rows.assign(attributes=attrs, original_attributes=originals, auto_flags=flags)
    return rows[COLUMNS].sort_values(["sku", "prompt_ref", "provider", "model"]).reset_index(drop=True)


def filter_qa(frame: pd.DataFrame, *, category: str | None = None, prompt_ref: str | None = None,
              provider: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Rows matching every given filter; status is one of STATUS_FILTERS."""
    keep = pd.Series(True, index=frame.index)
    for col, value in (("category", category), ("prompt_ref", prompt_ref), ("provider", provider)):
        if value:
            keep &= frame[col] == value
    if status:
        if status not in STATUS_FILTERS:
            raise VitrineError(f"unknown status filter {status!r}; choose one of: {', '.join(STATUS_FILTERS)}")
        keep &= {
            "unreviewed": (frame["status"] == "") & (frame["error"] == ""),
            "auto-flagged": frame["auto_flags"].map(bool),
            "failed": frame["error"] != "",
            "edited": frame["edited"].astype(bool),
        }.get(status, frame["status"] == status)
    return frame[keep].reset_index(drop=True)


def qa_table(lab: Lab, *, category: str | None = None, prompt_ref: str | None = None,
             provider: str | None = None, status: str | None = None, wait_for_colours: bool = True) -> pd.DataFrame:
    """One row per (item, description): current text (human revision if any), original, review and flags.

    wait_for_colours=False: while a warm-up worker analyses image colours (colours_pending), the rows of images it
    has not reached yet skip the colour check instead of waiting for it.
    """
    return filter_qa(_build(lab, wait_for_colours), category=category, prompt_ref=prompt_ref, provider=provider,
                     status=status)


def with_thumbnails(lab: Lab, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a `thumbnail` data URI each; only for the rows shown, as encoding all of them is slow."""
    return frame.assign(thumbnail=[_thumb_uri(str(lab.images.thumb_path(sha))) for sha in frame["image_sha256"]])


QA_EXPORT_COLUMNS = ["sku", "title", "category", "prompt_ref", "provider", "model", "status", "edited", "auto_flags",
                     "text", "original_text", "attributes", "reason", "note", "reviewer", "error"]


def qa_csv(frame: pd.DataFrame) -> bytes:
    """The QA table as the reviewer filtered it, formula-safe: flags and facets as readable text, one row per
    description (what a buyer or a vendor gets to fix the catalogue from)."""
    out = frame.assign(auto_flags=frame["auto_flags"].map(lambda flags: "; ".join(flags)),
                       attributes=frame["attributes"].map(attribute_text))
    return formula_safe_csv(out[[c for c in QA_EXPORT_COLUMNS if c in out.columns]])


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per status filter, for the page's summary line."""
    return {status: len(filter_qa(frame, status=status)) for status in STATUS_FILTERS}


def failed_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """(prompt_ref, provider, model, failed) for runs in the frame with failed items: what 'retry' can fix."""
    failed = frame[frame["error"] != ""]
    return (failed.groupby(["prompt_ref", "provider", "model"], as_index=False)["sku"].count()
            .rename(columns={"sku": "failed"}))


def provider_choices(lab: Lab) -> list[str]:
    """Registered providers plus the lab's injected ones (tests, demos)."""
    return sorted(set(provider_names()) | set(lab.describer_overrides))


# --- actions --------------------------------------------------------------------------------------

def _description(lab: Lab, key: str, *, require_ok: bool) -> dict:
    rows = lab.store.frame("descriptions", DESCRIPTION_SCHEMA, f"key = {sql_str(key)}")
    if rows.empty:
        raise VitrineError(f"no description with key {key!r}; reload the QA table")
    row = rows.iloc[0].to_dict()
    if require_ok and row["error"]:
        raise VitrineError(f"this description failed ({row['error']}); retry or regenerate it first")
    return row


class ReviewConflict(VitrineError):
    """Another reviewer saved this description after you opened it: their version stays, yours comes back here."""

    def __init__(self, current: dict, theirs: str, yours: str, action: str) -> None:
        self.current, self.theirs, self.yours = current, theirs, yours
        who = current["reviewer"] or "another reviewer"
        what = {"edited": "edited the text", "approved": "approved it",
                "flagged": f"flagged it ({current['reason']})"}.get(current["status"], "reset its review")
        when = current["reviewed_at"] or "an unknown time"
        draft = "; your text is kept as your draft" if action == "edit" else ""
        super().__init__(f"{who} {what} at {when}, after you opened this description. Their version is kept and "
                         f"your {action} was not saved{draft}: check the current text, then save again.")


def _review(lab: Lab, key: str) -> dict:
    rows = reviews(lab.store, f"key = {sql_str(key)}")
    if rows.empty:
        return {"key": key, "status": "", "reason": "", "edited_text": "", "edited_at": "", "note": "",
                "reviewed_at": "", "revision": "", "reviewer": "", "edited_attributes": ""}
    return {k: v or "" for k, v in rows.iloc[0].to_dict().items()}  # a column added later reads as None


def _stamped(review: dict, reviewer: str) -> dict:
    """A review as saved: a fresh revision token (never reused, so an undone or repeated text can't be mistaken
    for the version someone opened), the time and the reviewer: the signed-in identity, else the name given, else
    the CLI or OS user."""
    actor = current_actor()
    return {**review, "reviewed_at": now_iso(), "revision": secrets.token_hex(8),
            "reviewer": actor.name if actor.via == "sign-in" else reviewer.strip() or actor.name}


def _save_review(lab: Lab, base: dict, saved: dict, *, theirs: str, yours: str, action: str,
                 revision: str | None) -> dict:
    """Save `saved` over `base` only if `base` is still the stored review and the version the caller opened
    (`revision`; None: whatever is stored now); otherwise raise ReviewConflict and keep the stored one."""
    kind = REVIEW_ACTIONS[saved["status"]]
    require(lab.store, kind)
    _check_seen(base, revision, theirs, yours, action)
    if not lab.store.compare_and_set(QA_TABLE, REVIEW_SCHEMA, saved, "revision", base["revision"]):
        now = _review(lab, base["key"])
        raise ReviewConflict(now, now["edited_text"] or theirs, yours, action)
    audit.record(lab.store, kind, skus=_skus_described(lab, saved["key"]),
                 detail=f"{saved['status']} description {saved['key']}" + (f": {saved['reason']}" if saved["reason"]
                                                                           else ""))
    return saved


def _skus_described(lab: Lab, key: str) -> list[str]:
    """The SKUs whose image a description is of, so `vitrine audit --sku` finds reviews too."""
    shas = lab.store.frame("descriptions", DESCRIPTION_SCHEMA, f"key = {sql_str(key)}")["image_sha256"]
    items = lab.store.items()
    return items.loc[items["image_sha256"].isin(set(shas)), "sku"].tolist() if len(items) else []


def _check_seen(base: dict, revision: str | None, theirs: str, yours: str, action: str) -> None:
    """The caller acts on the version it opened (`revision`), not on one saved by someone since."""
    if revision is not None and base["revision"] != revision:
        raise ReviewConflict(base, theirs, yours, action)


def approve(lab: Lab, key: str, note: str = "", *, revision: str | None = None, reviewer: str = "") -> dict:
    """Mark a description as approved; a human revision, if any, stays the current text."""
    desc = _description(lab, key, require_ok=True)
    base = _review(lab, key)
    return _save_review(lab, base, _stamped({**base, "status": "approved", "reason": "", "note": note.strip()},
                                            reviewer), theirs=base["edited_text"] or desc["text"], yours="",
                        action="approval", revision=revision)


def flag(lab: Lab, key: str, reason: str, note: str = "", *, revision: str | None = None,
         reviewer: str = "") -> dict:
    reason = reason.strip()
    if not reason:
        raise VitrineError("give a reason for flagging (e.g. 'wrong colour', 'hallucinated material')")
    desc = _description(lab, key, require_ok=False)
    base = _review(lab, key)
    return _save_review(lab, base, _stamped({**base, "status": "flagged", "reason": reason, "note": note.strip()},
                                            reviewer), theirs=base["edited_text"] or desc["text"], yours="",
                        action="flag", revision=revision)


def edit(lab: Lab, key: str, new_text: str, note: str = "", *, revision: str | None = None,
         reviewer: str = "") -> int:
    """Store a human revision (journaled for undo) and re-embed it into the run's representation; returns SKUs
    re-embedded. `revision` is the review version the text was edited from: a save over someone else's newer
    save raises ReviewConflict instead of replacing it.

    The revision is saved before embedding, so a failure to embed never loses the human's text; saving the same
    text again re-embeds vectors a crash left stale instead of refusing.
    """
    desc = _description(lab, key, require_ok=True)
    base = _review(lab, key)
    current = base["edited_text"] or desc["text"]
    text = new_text.strip()
    if not text:
        raise VitrineError("the edited text is empty; write a description or flag the item instead")
    _check_seen(base, revision, current, text, "edit")  # before any encoding
    name, rep, skus = _run_vectors(lab, desc)
    if text == current:
        stored = lab.store.vector_text_shas(rep["table"]) if rep else {}
        stale = [s for s in skus if stored.get(s) != text_sha(text)]
        if rep is None or not stale:
            raise VitrineError("nothing changed: the text is the same as the current description")
        return _reembed(lab, rep, _vectors(lab, rep, desc, text, stale))
    saved = _stamped({**base, "status": "edited", "edited_text": text, "edited_at": now_iso(),
                      "note": note.strip() or base["note"]}, reviewer)
    vectors = _vectors(lab, rep, desc, text, skus) if rep else None
    extra = ([journal.replacement(lab.store, rep["table"], vectors, vectors.schema)]
             if rep and vectors is not None and vectors.num_rows else [])
    _save_journaled(lab, base, saved, extra, f"the description of {journal.listing(skus)} ({name})",
                    f"the previous text of {journal.listing(skus)} ({name})" + (" and its vector(s)" if extra else ""),
                    theirs=current, yours=text)
    return _reembed(lab, rep, vectors) if rep else 0


def edit_facets(lab: Lab, key: str, facets: dict, note: str = "", *, revision: str | None = None,
                reviewer: str = "") -> dict:
    """Store a human revision of the structured facets (journaled for undo); the model's facets stay beside it.
    Facets are not embedded, so nothing is re-embedded; exports and the QA checks use the revision."""
    unknown = sorted(set(facets) - set(FACETS))
    if unknown:
        raise VitrineError(f"unknown facet {unknown[0]!r}; facets are: {', '.join(FACETS)}")
    desc = _description(lab, key, require_ok=True)
    base = _review(lab, key)
    current = Attributes.model_validate_json(base["edited_attributes"] or desc["attributes"] or "{}")
    new = Attributes.model_validate({**current.model_dump(), **facets})
    _check_seen(base, revision, attribute_text(current.model_dump()), attribute_text(new.model_dump()), "edit")
    if new == current:
        raise VitrineError("nothing changed: the facets are the same as the current ones")
    name, _, skus = _run_vectors(lab, desc)
    saved = _stamped({**base, "status": "edited", "edited_attributes": new.model_dump_json(), "edited_at": now_iso(),
                      "note": note.strip() or base["note"]}, reviewer)
    _save_journaled(lab, base, saved, [], f"the facets of {journal.listing(skus)} ({name})",
                    f"the previous facets of {journal.listing(skus)} ({name})",
                    theirs=attribute_text(current.model_dump()), yours=attribute_text(new.model_dump()))
    return saved


def _save_journaled(lab: Lab, base: dict, saved: dict, extra: list[journal.Change], what: str, brings_back: str,
                    *, theirs: str, yours: str) -> None:
    """Journal a human revision (plus `extra` changes, e.g. its vectors) for undo, then save it; a conflict drops
    the journal entry again, so undo never 'restores' a save that did not happen."""
    changes = [journal.replacement(lab.store, QA_TABLE, pa.Table.from_pylist([saved], schema=REVIEW_SCHEMA),
                                   REVIEW_SCHEMA), *extra]
    entry = journal.record(lab.store, "edit", f"replaced {what}", brings_back, changes)
    try:
        _save_review(lab, base, saved, theirs=theirs, yours=yours, action="edit", revision=base["revision"])
    except VitrineError:  # a conflict, or a viewer: nothing was saved, so nothing to undo
        journal.discard(lab.store, entry)
        raise


def _run_vectors(lab: Lab, desc: dict) -> tuple[str, dict | None, list[str]]:
    """(run name, its representation or None when never embedded, the SKUs this description is current for)."""
    prompt = lab.prompts.get(f"{desc['prompt_name']}@v{desc['prompt_version']}")
    name = run_name(prompt, desc["provider"], desc["model"])
    try:
        rep = lab.store.representation(name)
    except VitrineError:
        rep = None  # never embedded: the revision is used when the run is (see human_revisions)
    current = run_descriptions(lab.store, lab.store.items(), prompt, desc["provider"], desc["model"])
    return name, rep, current.loc[current["key"] == desc["key"], "sku"].tolist()


def _vectors(lab: Lab, rep: dict, desc: dict, text: str, skus: list[str]) -> pa.Table | None:
    """The run's vector rows of `text` for `skus`; None when the run was embedded by another encoder."""
    if rep["encoder"] and rep["encoder"] != lab.encoder.name:
        return None
    vector = np.repeat(lab.encoder.encode([text]), len(skus), axis=0)
    return vector_rows(int(rep["dim"]), skus, [desc["image_sha256"]] * len(skus), [text_sha(text)] * len(skus),
                       vector)


def _reembed(lab: Lab, rep: dict, vectors: pa.Table | None) -> int:
    """Write the revision's vectors, after the revision itself: a failure here never loses the human's text."""
    if vectors is None:
        raise VitrineError(f"{rep['name']} was embedded with {rep['encoder']}, not {lab.encoder.name}; "
                           "the revision is saved but re-run the embedding to update its vector")
    lab.store.put_rows(rep["table"], vectors)
    return vectors.num_rows


@dataclass
class BulkResult:
    """What a bulk approve/flag did: keys saved, and (key, why) for each one it left as it was."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        return f"{verb} {len(self.done)}" + (f"; {len(self.skipped)} left as they were" if self.skipped else "")


def approve_many(lab: Lab, seen: dict[str, str], *, reviewer: str = "") -> BulkResult:
    """Approve each selected description (key -> the review version the grid showed) through approve(); one that
    failed or that someone changed since the grid was drawn is skipped with the reason, the others still saved."""
    return _bulk(seen, lambda key, revision: approve(lab, key, revision=revision, reviewer=reviewer))


def flag_many(lab: Lab, seen: dict[str, str], reason: str, *, reviewer: str = "") -> BulkResult:
    """Flag each selected description with one reason through flag(); conflicts are skipped as in approve_many."""
    if not reason.strip():
        raise VitrineError("give a reason for flagging (e.g. 'wrong colour', 'hallucinated material')")
    return _bulk(seen, lambda key, revision: flag(lab, key, reason, revision=revision, reviewer=reviewer))


def selection_versions(lab: Lab, run: str, skus: Iterable[str]) -> dict[str, str]:
    """Key -> review version of `run`'s current descriptions of the selected items (a map selection), so a bulk
    approve/flag acts on what was on screen and a teammate's newer save is skipped as a conflict, not overwritten."""
    rep = lab.store.representation(run)
    if rep["kind"] != "description":
        raise VitrineError(f"{run} is not a description run, so it has no descriptions to review: map a "
                           "description run to approve or flag a selection")
    table = qa_table(lab, prompt_ref=rep["prompt_ref"], provider=rep["provider"], wait_for_colours=False)
    rows = table[(table["model"] == rep["model"]) & table["sku"].isin(set(skus))]
    return dict(zip(rows["key"], rows["revision"], strict=True))


def _bulk(seen: dict[str, str], action: Callable[[str, str], dict]) -> BulkResult:
    if not seen:
        raise VitrineError("select at least one description in the table first")
    result = BulkResult()
    for key in sorted(seen):
        try:
            action(key, seen[key])
        except VitrineError as exc:
            result.skipped.append((key, str(exc)))
        else:
            result.done.append(key)
    return result


def regenerate_default(lab: Lab, prompt_ref: str, saved: str | None = None) -> str:
    """The prompt Regenerate offers first: `saved` (the version this reviewer saved last) when it is a version of
    the description's prompt, though a teammate saved a newer one since; else that prompt's newest version (a
    reviewer who just saved v2 regenerates with v2); else the active prompt, when that prompt is gone."""
    name = prompt_ref.partition("@")[0]
    for ref in ([saved] if saved and saved.partition("@")[0] == name else []) + [name]:
        try:
            return lab.prompts.get(ref).ref
        except PromptError:
            continue
    return lab.active_prompt().ref


def regenerate(lab: Lab, sku: str, prompt_ref: str, provider: str, model: str | None = None, *,
               retry_failed: bool = False, progress: Progress | None = None) -> RunReport:
    """Describe one item under another prompt/provider and embed it; a cached ok description is reused. It goes
    through the connection its provider/model was run through; a blank model is the one this provider described
    the item with (else the provider's default), so a local run's item is never sent to the hosted API."""
    return run_prompt(lab, lab.prompts.get(prompt_ref), provider, model=model or _item_model(lab, sku, provider),
                      skus=[sku], retry_failed=retry_failed, progress=progress)


def _item_model(lab: Lab, sku: str, provider: str) -> str | None:
    """The model `provider` last described this item's image with, if any."""
    items = lab.store.items()
    shas = set(items.loc[items["sku"] == sku, "image_sha256"])
    descs = lab.store.descriptions(provider=provider)
    mine = descs[descs["image_sha256"].isin(shas)].sort_values("created_at", kind="stable")
    return str(mine.iloc[-1]["model"]) if len(mine) else None


def retry_failed(lab: Lab, prompt_ref: str, provider: str, model: str | None = None, *,
                 progress: Progress | None = None) -> RunReport:
    """Describe again only the items whose description failed under this run, then embed them."""
    prompt = lab.prompts.get(prompt_ref)
    describer = lab.describer(provider, model=model or None)
    current = run_descriptions(lab.store, lab.store.items(), prompt, describer.provider, describer.model)
    skus = current.loc[current["error"].fillna("") != "", "sku"].tolist()
    if not skus:
        raise VitrineError(f"no failed items for {prompt.ref} via {describer.provider}/{describer.model}")
    return run_prompt(lab, prompt, provider, model=model or None, skus=skus, retry_failed=True, progress=progress)


def attribute_text(attributes: dict) -> str:
    """Facets as one plain line ('style: minimalist; colour: red') for tables."""
    return "; ".join(f"{facet}: {', '.join(values)}" for facet, values in attributes.items() if values)

