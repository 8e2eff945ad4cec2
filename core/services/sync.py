"""`vitrine sync` and the app's Sync: bring every representation the app ranks with to full, fresh coverage.

Title and visual are local and cheap, so they are always rebuilt; the active description run describes what it
lacks through the describe cache, after an estimate, and a hosted (possibly paid) provider needs consent first.
The engine (core.engines) decides where the encoders, the describer and large ANN index builds run, not what is
stored: `local` and `ray` write the same rows under the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.catalog.ann import DEFAULT as ANN_DEFAULT
from core.catalog.ann import needs_index
from core.describe.connections import Connection, remember
from core.describe.endpoints import Where
from core.describe.identity import run_descriptions
from core.describe.pricing import FREE, is_priced, no_price
from core.describe.prompts import PromptVersion
from core.engines.base import Engine
from core.engines.local import LOCAL
from core.errors import VitrineError
from core.lab import Lab
from core.models import Progress
from core.represent.coverage import Coverage, coverage
from core.represent.representations import (
    TITLE,
    VISUAL,
    build_metadata,
    build_title,
    build_visual,
    embed_description_run,
    metadata_columns,
    run_name,
)
from core.runs.batch import estimate_cost
from core.runs.describe import RunReport
from core.runs.prompt import run_prompt


class ConsentNeeded(VitrineError):
    """A sync would call a hosted provider: the message carries the estimate; re-run with consent."""


@dataclass
class SyncPlan:
    """What a sync would do, before it does anything (the estimate shown ahead of any paid call)."""

    run: str  # the active description run
    provider: str
    model: str
    to_describe: list[str]  # SKUs without a successful description of their current inputs
    hosted: bool  # calls leave the machine and the local network for a keyed API
    is_lvlm: bool  # False for the offline tagger: say so wherever its descriptions are offered
    cost_usd: float | None  # None: no price known for this model
    seconds: float | None  # rough: the run's recorded mean latency per item, when it has history
    where: Where = "on this machine"  # where the images go: the run's connection decides
    connection: Connection | None = None  # the run's connection, which describing the rest goes through

    def estimate(self) -> str:
        n = len(self.to_describe)
        if not n:
            return f"{self.run}: nothing to describe"
        price = (FREE if self.where == "on this machine" else no_price(self.provider, self.model, self.where)
                 or f"about ${self.cost_usd or 0:,.2f}")
        time = f", about {self.seconds / 60:.1f} min" if self.seconds else ""
        return f"{self.run}: {n:,} item(s) to describe via {self.provider}/{self.model}: {price}{time}"


@dataclass
class SyncReport:
    plan: SyncPlan
    described: RunReport | None
    coverage: list[Coverage] = field(default_factory=list)
    indexed: dict[str, float] = field(default_factory=dict)  # representation -> seconds its new ANN index took

    def lines(self) -> list[str]:
        out = [self.described.summary()] if self.described else []
        out += [f"{name}: ANN index built in {s:.1f} s" for name, s in self.indexed.items()]
        return out + [f"{c.name}: {c.label()}" + ("" if c.complete else " — incomplete") for c in self.coverage]


def plan_sync(lab: Lab) -> SyncPlan:
    """What completing the active run would take."""
    provider, model = lab.active_provider()
    return plan_run(lab, lab.active_prompt(), provider, model)


def plan_run(lab: Lab, prompt: PromptVersion, provider: str, model: str,
             connection: Connection | None = None) -> SyncPlan:
    """What completing one description run over the catalogue would take (a promotion, a sync); by default through
    the connection the run went through before."""
    connection = connection or lab.connection(provider, model=model or None)
    describer = lab.describer(connection=connection)
    current = run_descriptions(lab.store, lab.store.items(), prompt, describer.provider, describer.model)
    todo = current.loc[current["error"].fillna("missing") != "", "sku"].tolist()
    where = lab.where(connection)
    hosted = where in ("hosted API", "remote server")
    cost = None
    if hosted and is_priced(describer.provider, describer.model):
        cost = estimate_cost(lab, prompt, describer.provider, describer.model, items=len(todo)).sync_total
    done = current[current["error"] == ""]
    latency = float(done["latency_ms"].mean()) / 1000 if len(done) else None
    return SyncPlan(run_name(prompt, describer.provider, describer.model), describer.provider, describer.model,
                    todo, hosted, bool(getattr(describer, "is_lvlm", True)), cost,
                    latency * len(todo) if latency else None, where, connection)


def complete_run(lab: Lab, prompt: PromptVersion, plan: SyncPlan, *, allow_hosted: bool = False,
                 progress: Progress | None = None, engine: Engine = LOCAL) -> RunReport | None:
    """Describe what the run lacks (through the cache: nothing is paid twice) and refresh its vectors."""
    if plan.to_describe and plan.hosted and not allow_hosted:
        raise ConsentNeeded(f"{plan.estimate()}. Nothing was sent; confirm to go ahead (CLI: --yes).")
    if plan.to_describe:
        return run_prompt(lab, prompt, plan.provider, model=plan.model or None, connection=plan.connection,
                          skus=plan.to_describe, retry_failed=True, progress=progress, engine=engine)
    embed_description_run(lab, prompt, plan.provider, plan.model, engine)  # revisions, re-keyed items: catch up
    if plan.connection is not None:  # promoted through a connection with nothing left to describe
        remember(lab.store, plan.connection, lab.describer(connection=plan.connection))
    return None


def describe_queued(lab: Lab, *, allow_hosted: bool = False, progress: Progress | None = None) -> RunReport:
    """The Catalog's button: describe what the active run lacks (new, replaced, retitled or failed items)."""
    plan = plan_sync(lab)
    if not plan.to_describe:
        raise VitrineError(f"every item already has a description of its current inputs under {plan.run}")
    report = complete_run(lab, lab.active_prompt(), plan, allow_hosted=allow_hosted, progress=progress)
    assert report is not None  # there was something to describe
    return report


def keep_in_step(lab: Lab, engine: Engine = LOCAL) -> list[str]:
    """After an ingest or an edit: the local baselines follow the catalogue at once (changed items only); metadata
    too when the catalogue has attribute columns."""
    if not lab.store.item_count():
        return []
    has_attributes = bool(metadata_columns(lab.store.items()))
    return [build_title(lab, engine), build_visual(lab, engine),
            *([build_metadata(lab, engine)] if has_attributes else [])]


def index_large(lab: Lab, names: list[str], engine: Engine = LOCAL) -> dict[str, float]:
    """Build the ANN index of each representation at or above ANN_MIN_ROWS that has none, now rather than on the
    first request that needs it; representation -> seconds."""
    built = {}
    for name in names:
        table = lab.store.representation(name)["table"]
        if (handle := lab.store.vector_table(table)) is not None and needs_index(handle):
            built[name] = engine.build_index(lab.store, table, ANN_DEFAULT)
    return built


def sync(lab: Lab, *, allow_hosted: bool = False, progress: Progress | None = None,
         engine: Engine = LOCAL) -> SyncReport:
    """Title and visual, then the active run over everything it lacks, then indexes for large representations;
    nothing already described is paid again."""
    if not lab.store.item_count():
        raise VitrineError("the catalogue is empty: ingest images first")
    plan = plan_sync(lab)
    if plan.to_describe and plan.hosted and not allow_hosted:  # before anything runs, local work included
        raise ConsentNeeded(f"{plan.estimate()}. Nothing was sent; confirm to go ahead (CLI: --yes).")
    baselines = keep_in_step(lab, engine)
    described = complete_run(lab, lab.active_prompt(), plan, allow_hosted=allow_hosted, progress=progress,
                             engine=engine)
    names = [TITLE, VISUAL, plan.run]
    indexed = index_large(lab, list(dict.fromkeys([*baselines, plan.run])), engine)
    return SyncReport(plan, described, [coverage(lab, n) for n in names], indexed)
