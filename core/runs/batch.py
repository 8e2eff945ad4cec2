"""Provider Batch APIs: describe a catalogue asynchronously at the batch discount, resumably and idempotently.

A run writes JSONL shards within each provider's limits (OpenAI: 50,000 requests / 200 MB per input file;
Anthropic Message Batches: 100,000 requests / 256 MB per batch) under <workspace>/batches/, records every
shard in the `batch_jobs` table, submits, polls and ingests the results. Each request's custom_id is the
description key, so ingesting the same results twice writes the same rows, and re-running the command picks
up where the last one stopped: prepared shards are submitted, submitted ones polled, ended ones ingested,
and items already described or in flight are never sent again. Anthropic deletes results 29 days after a
batch is created (OpenAI's batch files expire after 30): a run warns when unfetched results near that date.

Everything provider-specific lives on the provider class (core/describe/providers): its batch_limits, the
line format, the submit/poll/results calls, and build_request/parse_response, the same two methods a
synchronous describe() composes, so a batch line carries byte-for-byte the request a synchronous run would send.
This module only orchestrates: sharding, the jobs table, resume and expiry.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from core.catalog.store import now_iso, sql_str
from core.describe.identity import item_key
from core.describe.image_payload import sent_size, stored_size
from core.describe.pricing import cost_usd, is_priced, unpriced
from core.describe.prompts import PromptVersion
from core.describe.providers.errors import ProviderError
from core.describe.providers.sdk import BatchLimits, SDKDescriber, build_description, parse_output
from core.describe.registry import provider_class, provider_names
from core.errors import ConfigError, VitrineError
from core.lab import Lab
from core.models import Description, ImageRef, Progress
from core.runs.describe import select_items

TABLE = "batch_jobs"
WARN_BEFORE_EXPIRY = timedelta(days=3)

# Whole-request overhead of an Anthropic create call ({"requests": [...]}) beyond its lines.
_ENVELOPE_BYTES = 64

JOB_SCHEMA = pa.schema([
    ("job_id", pa.string()), ("provider", pa.string()), ("model", pa.string()), ("prompt_ref", pa.string()),
    ("prompt_hash", pa.string()), ("shard", pa.int32()), ("path", pa.string()), ("requests", pa.int64()),
    ("bytes", pa.int64()), ("file_id", pa.string()), ("batch_id", pa.string()),
    ("status", pa.string()),  # prepared | submitted | ended | ingested | failed | expired
    ("created_at", pa.string()), ("submitted_at", pa.string()), ("ended_at", pa.string()),
    ("results_expire_at", pa.string()), ("ingested", pa.int64()), ("failed", pa.int64()), ("note", pa.string()),
])
OPEN = ("prepared", "submitted", "ended")


@dataclass
class BatchReport:
    """What this invocation did; `pending` counts shards still at the provider (re-run to continue)."""

    prompt_ref: str
    provider: str
    model: str
    items: int = 0
    cached: int = 0
    in_flight: int = 0
    new_requests: int = 0
    shards_written: int = 0
    submitted: int = 0
    ingested: int = 0
    failed: int = 0
    pending: int = 0
    cost_usd: float = 0.0
    representation: str = ""
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.prompt_ref} via {self.provider}/{self.model} (batch): {self.items} items, "
                f"{self.cached} cached, "
                f"{self.new_requests} new requests in {self.shards_written} shard(s), {self.submitted} shard(s) "
                f"submitted, {self.ingested} descriptions ingested ({self.failed} failed), {self.pending} shard(s) "
                f"pending, ${self.cost_usd:.4f}")


# --- replies -------------------------------------------------------------------------------------------

def parse_reply(describer: SDKDescriber, sha256: str, prompt: PromptVersion, reply: Any) -> Description:
    """A batch reply (SDK-typed) -> Description at the batch price; unusable output -> an error row."""
    image = ImageRef(sha256, Path(""))
    try:
        raw = describer.parse_response(reply)
        desc = build_description(image, prompt, provider=describer.provider, model=describer.model,
                                 output=parse_output(raw.payload, describer.who), reply=raw, latency_ms=0.0)
    except ProviderError as exc:
        return failure(describer, sha256, prompt, str(exc))
    return desc.model_copy(update={"cost_usd": cost_usd(describer.provider, describer.model, desc.input_tokens,
                                                        desc.output_tokens, batch=True)})


def failure(describer: SDKDescriber, sha256: str, prompt: PromptVersion, error: str) -> Description:
    return Description(image_sha256=sha256, prompt_name=prompt.name, prompt_version=prompt.version,
                       prompt_hash=prompt.hash, provider=describer.provider, model=describer.model, error=error)


# --- shards --------------------------------------------------------------------------------------------

def shard_lines(lines: Iterator[tuple[str, bytes]], limits: BatchLimits) -> Iterator[list[tuple[str, bytes]]]:
    """Group (key, line) pairs into shards under both the request and the byte limit."""
    shard: list[tuple[str, bytes]] = []
    size = _ENVELOPE_BYTES
    for key, line in lines:
        if len(line) + _ENVELOPE_BYTES > limits.max_bytes:
            raise VitrineError(f"one request is {len(line):,} bytes, over the {limits.max_bytes:,}-byte batch limit; "
                               "shrink the image")
        if shard and (len(shard) >= limits.max_requests or size + len(line) > limits.max_bytes):
            yield shard
            shard, size = [], _ENVELOPE_BYTES
        shard.append((key, line))
        size += len(line)
    if shard:
        yield shard


def _batches_dir(lab: Lab) -> Path:
    path = lab.workspace.root / "batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def jobs(lab: Lab, provider: str | None = None, model: str | None = None,
         prompt_hash: str | None = None) -> pd.DataFrame:
    """Recorded shards, oldest first (optionally of one run)."""
    clauses = [f"{c} = {sql_str(v)}" for c, v in (("provider", provider), ("model", model),
                                                  ("prompt_hash", prompt_hash)) if v]
    df = lab.store.frame(TABLE, JOB_SCHEMA, " AND ".join(clauses) or None)
    return df.sort_values(["created_at", "shard"], kind="stable").reset_index(drop=True)


def _save(lab: Lab, job: dict) -> None:
    lab.store.upsert_rows(TABLE, JOB_SCHEMA, [job], "job_id")


def shard_path(lab: Lab, job: dict) -> Path:
    """The shard's JSONL file (stored relative to the workspace, so a moved workspace keeps working)."""
    return lab.workspace.root / job["path"]


def _keys(lab: Lab, job: dict) -> dict[str, tuple[str, str]]:
    """custom_id -> (image sha256, inputs hash) of a shard (its sidecar file; older ones hold the sha alone)."""
    keys = json.loads(shard_path(lab, job).with_suffix(".keys.json").read_text(encoding="utf-8"))
    return {k: (v, "") if isinstance(v, str) else (v[0], v[1]) for k, v in keys.items()}


def write_shards(lab: Lab, describer: SDKDescriber, prompt: PromptVersion, by_key: dict[str, ImageRef],
                 limits: BatchLimits) -> list[dict]:
    """Write the JSONL shards (+ key sidecars) for description key -> image; record them as 'prepared'."""
    run_tag = hashlib.sha256(f"{describer.provider}|{describer.model}|{prompt.hash}|{now_iso()}|{time.time_ns()}"
                             .encode()).hexdigest()[:12]
    lines = ((k, describer.batch_line(k, describer.request_for(r, prompt))) for k, r in by_key.items())
    out = []
    for shard, group in enumerate(shard_lines(lines, limits)):
        job_id = f"{run_tag}-{shard:04d}"
        path = _batches_dir(lab) / f"{job_id}.jsonl"
        path.write_bytes(b"".join(line for _, line in group))
        sources = {k: [by_key[k].sha256, prompt.inputs_hash(by_key[k].context)] for k, _ in group}
        path.with_suffix(".keys.json").write_text(json.dumps(sources), encoding="utf-8")
        job = {"job_id": job_id, "provider": describer.provider, "model": describer.model,
               "prompt_ref": prompt.ref, "prompt_hash": prompt.hash, "shard": shard,
               "path": str(path.relative_to(lab.workspace.root)),
               "requests": len(group), "bytes": path.stat().st_size, "file_id": "", "batch_id": "",
               "status": "prepared", "created_at": now_iso(), "submitted_at": "", "ended_at": "",
               "results_expire_at": "", "ingested": 0, "failed": 0, "note": ""}
        _save(lab, job)
        out.append(job)
    return out


# --- provider calls ------------------------------------------------------------------------------------

def submit(describer: SDKDescriber, job: dict, path: Path) -> dict:
    """Upload and create the provider batch for one prepared shard (its file at `path`); returns the updated job."""
    batch = describer.submit_batch(path, job["job_id"])
    expires = batch.created + describer.batch_limits.results_ttl
    return job | {"file_id": batch.file_id, "batch_id": batch.batch_id, "status": "submitted",
                  "submitted_at": batch.created.isoformat(timespec="seconds"),
                  "results_expire_at": expires.isoformat(timespec="seconds")}


def poll(describer: SDKDescriber, job: dict) -> dict:
    """Ask the provider how a submitted shard is doing; 'ended' (or 'failed') once it is done."""
    state = describer.poll_batch(job["batch_id"])
    if state.status == "in_progress" or state.ended_at is None:
        return job
    update = {"status": state.status, "ended_at": state.ended_at.isoformat(timespec="seconds")}
    return job | update | ({"note": state.note} if state.status == "failed" else {})


def fetch(describer: SDKDescriber, job: dict, prompt: PromptVersion,
          keys: dict[str, tuple[str, str]]) -> list[Description]:
    """Every request's Description (errors included) from an ended shard, each keyed by its custom_id;
    keys: custom_id -> (image sha256, inputs hash)."""
    out: dict[str, Description] = {}
    for result in describer.batch_results(job["batch_id"]):
        if result.custom_id not in keys:
            continue
        sha = keys[result.custom_id][0]
        out[result.custom_id] = (failure(describer, sha, prompt, result.error) if result.error
                                 else parse_reply(describer, sha, prompt, result.response))
    for key, (sha, _) in keys.items():  # a request the results do not mention is recorded as failed, so it is retried
        out.setdefault(key, failure(describer, sha, prompt, f"{describer.who}: no result in batch {job['batch_id']}"))
    return [desc.model_copy(update={"inputs_hash": keys[key][1]}) for key, desc in out.items()]


def expiry_warning(job: dict, now: datetime) -> str | None:
    """A warning when an ended shard's results are about to be (or have been) deleted by the provider."""
    if job["status"] not in ("submitted", "ended") or not job["results_expire_at"]:
        return None
    expires = datetime.fromisoformat(job["results_expire_at"])
    if now >= expires:
        return (f"batch {job['batch_id']} ({job['provider']}): results expired on {expires:%Y-%m-%d}; "
                "its items will be sent again on the next run")
    if now >= expires - WARN_BEFORE_EXPIRY:
        return (f"batch {job['batch_id']} ({job['provider']}): results will be deleted by the provider on "
                f"{expires:%Y-%m-%d %H:%M} UTC ({(expires - now).days} day(s) left); "
                "run `describe --batch` to ingest them")
    return None


# --- the whole flow ------------------------------------------------------------------------------------

def describe_batch(lab: Lab, prompt: PromptVersion, provider: str, *, model: str | None = None,
              base_url: str | None = None, api_key: str | None = None, limit: int | None = None,
              skus: list[str] | None = None, retry_failed: bool = False, wait: bool = True,
              poll_interval: float = 30.0, timeout: float | None = None, limits: BatchLimits | None = None,
              progress: Progress | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC),
              sleep: Callable[[float], None] = time.sleep) -> BatchReport:
    """Prepare, submit, poll and ingest descriptions; safe to interrupt and re-run at any point."""
    describer = lab.describer(provider, model=model, base_url=base_url, api_key=api_key)
    if not (isinstance(describer, SDKDescriber) and describer.supports_batch):
        capable = " or ".join(n for n in provider_names() if provider_class(n).supports_batch)
        raise ConfigError(f"--batch needs a provider with a Batch API ({capable}), not {provider!r}")
    limits = limits or describer.batch_limits
    report = BatchReport(prompt.ref, describer.provider, describer.model)
    items = select_items(lab, skus=skus, limit=limit)
    refs: dict[str, ImageRef] = {}  # description key -> image: items sharing an image and inputs share one
    for row in items.to_dict("records"):
        refs.setdefault(item_key(row, prompt, describer.provider, describer.model), lab.image_ref(row))
    report.items = len(items)
    run_jobs = jobs(lab, describer.provider, describer.model, prompt.hash).to_dict("records")
    open_jobs = [j for j in run_jobs if j["status"] in OPEN]
    in_flight = {key for j in open_jobs for key in _keys(lab, j)}
    known = lab.store.description_keys()
    todo: dict[str, ImageRef] = {}
    for key, ref in refs.items():
        if key in known and not (retry_failed and known[key]):
            report.cached += 1
        elif key in in_flight:
            report.in_flight += 1
        else:
            todo[key] = ref
    new_jobs = write_shards(lab, describer, prompt, todo, limits) if todo else []
    report.new_requests, report.shards_written = len(todo), len(new_jobs)
    open_jobs += new_jobs
    total = sum(j["requests"] for j in open_jobs)
    started = time.monotonic()
    while True:
        done = _advance(lab, describer, prompt, open_jobs, report, now())
        if progress:
            progress(done, total, f"{sum(j['status'] in OPEN for j in open_jobs)} shard(s) at {describer.provider}")
        waiting = [j for j in open_jobs if j["status"] in OPEN]
        if not waiting or not wait or (timeout is not None and time.monotonic() - started >= timeout):
            break
        sleep(poll_interval)
    report.pending = sum(j["status"] in OPEN for j in open_jobs)
    report.warnings = sorted({w for j in open_jobs if (w := expiry_warning(j, now()))})
    report.warnings += [f"batch {j['batch_id']} ({j['provider']}) failed: {j['note']}; its items will be sent again "
                        "on the next run" for j in open_jobs if j["status"] == "failed"]
    return report


def _advance(lab: Lab, describer: SDKDescriber, prompt: PromptVersion, open_jobs: list[dict],
             report: BatchReport, now: datetime) -> int:
    """Move every open shard one step (submit, poll, ingest); returns the requests ingested so far."""
    for i, job in enumerate(open_jobs):
        if job["status"] == "prepared":
            job = submit(describer, job, shard_path(lab, job))
            report.submitted += 1
        elif job["status"] == "submitted":
            job = poll(describer, job)
        if job["status"] == "ended":
            expires = datetime.fromisoformat(job["results_expire_at"]) if job["results_expire_at"] else None
            if expires is not None and now >= expires:
                job = job | {"status": "expired", "note": "results deleted by the provider before ingestion"}
            else:
                descs = fetch(describer, job, prompt, _keys(lab, job))
                lab.store.upsert_descriptions(descs)  # merge on the description key: re-ingesting is harmless
                bad = sum(1 for d in descs if d.error)
                report.ingested += len(descs) - bad
                report.failed += bad
                report.cost_usd += sum(d.cost_usd for d in descs)
                job = job | {"status": "ingested", "ingested": len(descs) - bad, "failed": bad}
        if job is not open_jobs[i]:
            _save(lab, job)
            open_jobs[i] = job
    return sum(j["requests"] for j in open_jobs if j["status"] not in OPEN)


# --- cost ----------------------------------------------------------------------------------------------

# Typical tokens per request when the workspace has no history for the model: the rendered prompt plus the
# catalogue's images at the size they are sent (downscaled to the default long side, billed as the provider class
# says), and a description of max_words words plus its JSON attributes.
SIZE_SAMPLE = 32  # catalogue images whose size is read (headers only)
TYPICAL_SIZE = (512, 512)  # when there is none to read


@dataclass(frozen=True)
class CostEstimate:
    provider: str
    model: str
    input_tokens: float  # per item
    output_tokens: float
    sync_per_1000: float
    batch_per_1000: float
    items: int
    source: str  # "history" (this workspace's past runs) or "heuristic"

    @property
    def sync_total(self) -> float:
        return self.sync_per_1000 * self.items / 1000

    @property
    def batch_total(self) -> float:
        return self.batch_per_1000 * self.items / 1000

    def text(self) -> str:
        """The line shown before a run: dollars only for a priced model; an unpriced one is named, never costed
        as $0 or at another model's price."""
        if not is_priced(self.provider, self.model):
            return (f"estimated cost: {unpriced(self.provider, self.model)} (about {self.input_tokens:,.0f} input "
                    f"and {self.output_tokens:,.0f} output tokens per item, {self.source})")
        return (f"estimated cost per 1,000 SKUs ({self.source}): sync ${self.sync_per_1000:.2f}, batch "
                f"${self.batch_per_1000:.2f}; this catalogue ({self.items} SKUs, before cache hits): sync "
                f"${self.sync_total:.2f}, batch ${self.batch_total:.2f}")


def estimate_cost(lab: Lab, prompt: PromptVersion, provider: str, model: str, items: int | None = None) -> CostEstimate:
    """Sync vs batch cost per 1,000 SKUs (and for `items`, default: the catalogue) before any run."""
    descs = lab.store.descriptions(provider=provider, model=model)
    descs = descs[(descs["error"] == "") & (descs["input_tokens"] > 0)] if not descs.empty else descs
    if len(descs):
        tokens_in, tokens_out, source = descs["input_tokens"].mean(), descs["output_tokens"].mean(), "history"
    else:
        image = _image_tokens(lab, provider, model)
        tokens_in = image + len(prompt.render({})) / 4
        tokens_out = prompt.max_words * 1.4 + 60
        source = "heuristic"
    n = lab.store.item_count() if items is None else items
    return CostEstimate(provider, model, float(tokens_in), float(tokens_out),
                        1000 * cost_usd(provider, model, round(tokens_in), round(tokens_out)),
                        1000 * cost_usd(provider, model, round(tokens_in), round(tokens_out), batch=True), n, source)


def _image_tokens(lab: Lab, provider: str, model: str) -> float:
    """Mean input tokens of the catalogue's images as sent (a spread sample); 0 for providers that bill none."""
    cls = provider_class(provider) if provider in provider_names() else None
    if cls is None or not issubclass(cls, SDKDescriber):
        return 0.0
    items = lab.store.items()
    sample = items.iloc[::max(1, len(items) // SIZE_SAMPLE)].head(SIZE_SAMPLE).to_dict("records")
    sizes = [sent_size(*size) for row in sample if (size := stored_size(lab.image_ref(row).path))] or [TYPICAL_SIZE]
    return sum(cls.image_tokens(model, w, h) for w, h in sizes) / len(sizes)
