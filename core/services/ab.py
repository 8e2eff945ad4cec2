"""Prompt A/B tests: sample items, run two (prompt, provider, model) sides through the normal run path, compare."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.access.audit import Action, record
from core.access.roles import require
from core.catalog.interactions import load_interactions
from core.describe.base import Describer
from core.describe.connections import Connection, get_connection, remember
from core.describe.identity import run_descriptions
from core.describe.pricing import FREE, no_price
from core.describe.prompts import PromptVersion
from core.describe.registry import provider_label, provider_names
from core.describe.secrets import ENV_VARS
from core.errors import ConfigError, VitrineError
from core.evaluation.protocol import MIN_POOL_ITEMS, MIN_SHOPPERS, evaluate
from core.lab import Lab
from core.models import FACETS, Attributes, Progress
from core.represent.coverage import coverage, require_complete
from core.represent.recommend import load_matrix
from core.represent.representations import embed_description_run, run_name
from core.runs.describe import RunReport, describe_items
from core.services.summary import connection_status, provider_status
from core.services.sync import SyncPlan, complete_run, plan_run
from core.services.votes import ab_id

STRATEGIES = {"random": "random", "stratified": "stratified by category"}
RECALL_CAVEAT = ("Same protocol and floors as the Evaluation page (leave-last-out, one shared pool, history "
                 "excluded, bootstrap 95% CI), over the whole catalogue: both runs describe every item first "
                 "(what is cached is free), so the pool is the catalogue, never the A/B sample.")
NOT_DESCRIBED = "not described"


# --- providers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderChoice:
    """A provider or a named connection as the A/B form offers it; `configurable` providers take a model name and
    base_url, a connection brings its own."""

    name: str  # the picker's key: a provider's name, or "connection:NAME"
    label: str
    available: bool  # a run with it would start now
    detail: str
    configurable: bool
    connection: str = ""  # the named connection this choice stands for


def provider_choices(lab: Lab) -> list[ProviderChoice]:
    """Built-in providers with key status, describers registered on this Lab (tests, plugins), then the workspace's
    named connections."""
    choices = {s.name: ProviderChoice(s.name, s.label, s.available, s.detail, s.name in ENV_VARS)
               for s in provider_status()}
    for name in lab.describer_overrides:
        choices[name] = ProviderChoice(name, f"{name} (registered describer)", True,
                                       "registered in this workspace", False)
    for status in connection_status(lab):
        name = status.connection.name
        choices[f"connection:{name}"] = ProviderChoice(
            f"connection:{name}", f"{status.connection.label()} — {status.where}", status.available, status.detail,
            False, name)
    return list(choices.values())


# --- sampling -------------------------------------------------------------------------------
def sample_items(items: pd.DataFrame, n: int, strategy: str = "random", seed: int = 0) -> pd.DataFrame:
    """N items, the same for the same seed; 'stratified' gives every category at least one item."""
    if strategy not in STRATEGIES:
        raise VitrineError(f"unknown sampling strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}")
    if items.empty:
        raise VitrineError("the catalogue is empty: add items on the Catalog page first")
    if n < 1:
        raise VitrineError(f"sample size must be at least 1, not {n}")
    items = items.sort_values("sku", kind="stable").reset_index(drop=True)  # input order must not matter
    n = min(n, len(items))
    rng = np.random.default_rng(seed)
    if strategy == "random":
        rows = rng.choice(len(items), size=n, replace=False)
    else:
        categories = items["category"].fillna("").astype(str)
        groups = {c: np.flatnonzero(categories.to_numpy() == c) for c in sorted(categories.unique())}
        if n < len(groups):
            raise VitrineError(f"a stratified sample needs one item per category: {len(groups)} categories "
                               f"but N = {n}; raise N or sample at random")
        quota = _allocate({c: len(members) for c, members in groups.items()}, n)
        rows = np.concatenate([rng.choice(groups[c], size=quota[c], replace=False) for c in groups])
    return items.iloc[np.sort(rows)].reset_index(drop=True)


def _allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """One item per category, the rest proportional to category size (highest-averages / D'Hondt)."""
    quota = dict.fromkeys(sizes, 1)
    for _ in range(n - len(sizes)):
        open_ = [c for c in sizes if quota[c] < sizes[c]]
        best = max(open_, key=lambda c: sizes[c] / (quota[c] + 1))  # ties: first in name order
        quota[best] += 1
    return quota


# --- running both sides ---------------------------------------------------------------------
@dataclass(frozen=True)
class SideSpec:
    """What the user picked for one side; an empty model means the provider's default."""

    prompt_ref: str
    provider: str
    model: str = ""
    base_url: str = ""
    connection: str = ""  # a named connection: it brings provider, model and server


@dataclass(frozen=True)
class Side:
    """A resolved side: the exact prompt version, provider and model whose descriptions it compares."""

    prompt: PromptVersion
    provider: str
    model: str

    @property
    def run(self) -> str:
        """The run identity, which is also the name of its representation."""
        return run_name(self.prompt, self.provider, self.model)


@dataclass
class ABRun:
    side_a: Side
    side_b: Side
    skus: list[str]
    reports: tuple[RunReport, RunReport]

    @property
    def ab_id(self) -> str:
        return ab_id(self.side_a.run, self.side_b.run)


def resolve_side(lab: Lab, spec: SideSpec) -> tuple[Side, Connection, Describer]:
    """Check the prompt, provider and key before anything is paid for: a missing key is an error, not N failures.
    Without a named connection or a base URL, a provider/model goes where it was run through before."""
    prompt = lab.prompts.get(spec.prompt_ref)
    if spec.connection:
        connection = get_connection(lab.store, spec.connection)
        label = connection.label()
    else:
        choice = next((c for c in provider_choices(lab) if c.name == spec.provider and not c.connection), None)
        if choice is None:
            raise ConfigError(f"unknown provider {spec.provider!r}; choose one of: "
                              f"{', '.join(c.name for c in provider_choices(lab) if not c.connection)}")
        options = {"model": spec.model.strip() or None, "base_url": spec.base_url.strip() or None}
        connection = lab.connection(spec.provider, **(options if choice.configurable else {}))
        label = choice.label
    if problem := lab.key_route(connection).problem:
        raise ConfigError(f"{label} is not available: {problem} (or pick a connection to a server of your own)")
    describer = lab.describer(connection=connection)
    return Side(prompt, describer.provider, describer.model), connection, describer


def run_ab(lab: Lab, items: pd.DataFrame, spec_a: SideSpec, spec_b: SideSpec, *, retry_failed: bool = False,
           concurrency: int = 4, progress: Progress | None = None) -> ABRun:
    """Both sides go through describe_items + embed_description_run, so they are cached like any run."""
    if items.empty:
        raise VitrineError("the A/B sample is empty")
    resolved = [resolve_side(lab, spec_a), resolve_side(lab, spec_b)]
    steps = items["image_sha256"].nunique()
    reports = []
    for i, (side, connection, describer) in enumerate(resolved):
        name = "AB"[i]

        def step(done: int, total: int, label: str, i: int = i, name: str = name) -> None:
            if progress:
                progress(i * steps + round(done / max(total, 1) * steps), 2 * steps, f"{name}: {label}")

        try:
            report = describe_items(lab, items, side.prompt, describer, concurrency=concurrency,
                                    retry_failed=retry_failed, progress=step)
        finally:  # the side's follow-ups (Recall@10, Promote) go where it went
            remember(lab.store, connection, describer)
        report.representation = embed_description_run(lab, side.prompt, side.provider, side.model)
        reports.append(report)
        step(1, 1, f"{side.run} done")
    return ABRun(resolved[0][0], resolved[1][0], items["sku"].tolist(), (reports[0], reports[1]))


# --- comparing ------------------------------------------------------------------------------
@dataclass
class SideMetrics:
    run: str
    items: int
    errors: int
    mean_words: float | None
    coverage: dict[str, float | None]  # facet -> share of items with it non-empty; None: not requested
    mean_latency_ms: float | None
    cost_per_1000_usd: float | None
    price_note: str = ""  # why there is no dollar figure (a local server, a model without a price)

    @property
    def cost_label(self) -> str:
        if self.price_note or self.cost_per_1000_usd is None:
            return self.price_note or "unknown"
        return FREE if self.cost_per_1000_usd == 0 else f"${self.cost_per_1000_usd:,.2f}"


@dataclass
class ABResult:
    ab_id: str
    a: SideMetrics
    b: SideMetrics
    rows: pd.DataFrame  # per item: sku, title, category, image_sha256, text/error/attributes_{a,b}, cosine
    mean_cosine: float | None
    cosine_note: str = ""
    facets: list[str] = field(default_factory=lambda: list(FACETS))
    identical_note: str = ""  # set when the two sides wrote the same text: blind votes would measure nothing

    @property
    def identical(self) -> int:
        """Items whose two descriptions are the same text (both described)."""
        ok = (self.rows["error_a"] == "") & (self.rows["error_b"] == "")
        return int((ok & (self.rows["text_a"] == self.rows["text_b"])).sum())

    def metrics_table(self) -> pd.DataFrame:
        """One row per side, ready for a dataframe: the per-side numbers and facet coverage."""
        return pd.DataFrame([{
            "side": name, "run": m.run, "items": m.items, "errors": m.errors,
            "mean words": m.mean_words, "mean latency (ms)": m.mean_latency_ms,
            "cost / 1,000 SKUs": m.cost_label,
            **{f"coverage: {f}": m.coverage[f] for f in self.facets},
        } for name, m in (("A", self.a), ("B", self.b))])


def compare(lab: Lab, items: pd.DataFrame, run_a: Side, run_b: Side) -> ABResult:
    """Per-side description metrics on the sample, and the cosine each item moved between A and B."""
    frames = [_side_frame(lab, items, side) for side in (run_a, run_b)]
    rows = items[["sku", "title", "category", "image_sha256"]].reset_index(drop=True).copy()
    for suffix, frame in zip("ab", frames, strict=True):
        rows[f"text_{suffix}"] = frame["text"].to_numpy()
        rows[f"error_{suffix}"] = frame["error"].to_numpy()
        rows[f"attributes_{suffix}"] = [_attribute_line(a) for a in frame["attributes"]]
    cosines, note = _cosines(lab, rows["sku"].tolist(), run_a.run, run_b.run)
    rows["cosine"] = cosines
    valid = [c for c in cosines if c is not None]
    result = ABResult(ab_id(run_a.run, run_b.run), _metrics(lab, run_a, frames[0]), _metrics(lab, run_b, frames[1]),
                      rows, float(np.mean(valid)) if valid else None, note)
    result.identical_note = _identical_note(lab, result, run_a, run_b)
    return result


def describer_label(lab: Lab, provider: str, model: str | None = None) -> str:
    """How a describer names itself wherever it is offered (the simulated LVLM with its accuracy), else its
    provider's registered label: no page guesses what a provider is."""
    return getattr(lab.describer(provider, model=model or None), "label", provider_label(provider))


def _identical_note(lab: Lab, result: ABResult, run_a: Side, run_b: Side) -> str:
    """Why two sides can write the same text: a describer that is no LVLM (the offline tagger, the simulated LVLM)
    follows a prompt's facets, their order and its word budget, but not its free text, so an edit to the wording
    alone changes nothing it writes. The describer is named by its own label."""
    if not result.identical:
        return ""
    share = f"{result.identical} of {len(result.rows)} items have identical text on both sides"
    readers = [describer_label(lab, s.provider, s.model) for s in (run_a, run_b)
               if not getattr(lab.describer(s.provider, model=s.model or None), "is_lvlm", True)]
    if readers:
        return (f"{share}: the {' and the '.join(dict.fromkeys(readers))} reads no free text: it honours a prompt's "
                "facets, their order and its word budget, so a wording-only edit cannot change what it writes. "
                "Blind votes on identical pairs measure nothing; compare with an LVLM provider, or change facets "
                "or length.")
    return f"{share}: votes on those items can only be ties."


def _side_frame(lab: Lab, items: pd.DataFrame, side: Side) -> pd.DataFrame:
    """The side's description row for each sampled item, in item order; missing ones read as errors."""
    current = run_descriptions(lab.store, items, side.prompt, side.provider, side.model)
    out = []
    for r in current.to_dict("records"):
        out.append({"text": r["text"], "error": r["error"], "attributes": r["attributes"],
                    "latency_ms": r["latency_ms"], "cost_usd": r["cost_usd"], "recorded": True}
                   if isinstance(r["text"], str) else
                   {"text": "", "error": NOT_DESCRIBED, "attributes": "{}", "latency_ms": None,
                    "cost_usd": None, "recorded": False})
    return pd.DataFrame(out, columns=["text", "error", "attributes", "latency_ms", "cost_usd", "recorded"])


def _attribute_line(raw: str) -> str:
    """'style: classic; colour: red' for display as plain text."""
    attrs = Attributes.model_validate_json(raw or "{}")
    return "; ".join(f"{f}: {', '.join(attrs.facet(f))}" for f in FACETS if attrs.facet(f))


def _metrics(lab: Lab, side: Side, frame: pd.DataFrame) -> SideMetrics:
    ok = frame[frame["error"] == ""]
    covered = [Attributes.model_validate_json(a or "{}").covered() if e == "" else dict.fromkeys(FACETS, False)
               for a, e in zip(frame["attributes"], frame["error"], strict=True)]
    recorded = frame[frame["recorded"]]
    return SideMetrics(
        run=side.run, items=len(frame), errors=len(frame) - len(ok),
        mean_words=_mean(len(t.split()) for t in ok["text"]),
        coverage={f: (_mean(c[f] for c in covered) if f in side.prompt.facets else None) for f in FACETS},
        mean_latency_ms=_mean(ok["latency_ms"]),
        cost_per_1000_usd=None if recorded.empty else float(recorded["cost_usd"].mean()) * 1000,
        price_note=no_price(side.provider, side.model, lab.where(lab.connection(side.provider, model=side.model))),
    )


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return float(np.mean(values)) if values else None


def _cosines(lab: Lab, skus: list[str], rep_a: str, rep_b: str) -> tuple[list[float | None], str]:
    """Cosine of each item's A and B vectors; only meaningful when one encoder produced both."""
    reps = lab.store.representations().set_index("name")
    missing = [r for r in (rep_a, rep_b) if r not in reps.index]
    if missing:
        return [None] * len(skus), f"no vectors yet for {', '.join(missing)}"
    enc_a, enc_b = reps.loc[rep_a, "encoder"], reps.loc[rep_b, "encoder"]
    if enc_a != enc_b or reps.loc[rep_a, "dim"] != reps.loc[rep_b, "dim"]:
        return [None] * len(skus), f"A and B were embedded by different encoders ({enc_a} vs {enc_b})"
    ma, mb = load_matrix(lab, rep_a), load_matrix(lab, rep_b)
    return [float(ma.vectors[ma.index[s]] @ mb.vectors[mb.index[s]]) if s in ma.index and s in mb.index else None
            for s in skus], ""


# --- recall on held-out interactions ---------------------------------------------------------
def recall_plans(lab: Lab, sides: list[Side]) -> list[SyncPlan]:
    """What scoring the sides over the catalogue would describe first (the estimate shown before the button)."""
    return [plan_run(lab, s.prompt, s.provider, s.model) for s in sides]


def complete_sides(lab: Lab, sides: list[Side], *, allow_hosted: bool = False,
                   progress: Progress | None = None) -> None:
    """Describe the rest of the catalogue under each side, so Recall@K ranks the catalogue, not the sample."""
    for side, plan in zip(sides, recall_plans(lab, sides), strict=True):
        complete_run(lab, side.prompt, plan, allow_hosted=allow_hosted, progress=progress)


def recall_at_k(lab: Lab, representations: list[str], k: int = 10, seed: int = 0, *,
                min_pool_items: int = MIN_POOL_ITEMS, min_shoppers: int = MIN_SHOPPERS,
                progress: Progress | None = None) -> dict:
    """Recall@k by the Evaluation page's own protocol (evaluate), so the A/B check cannot drift from it:
    leave-last-out, one shared pool, history excluded, bootstrap 95% CI; 2 interactions make a shopper.
    Observed before: scored on the 12 sampled SKUs, both sides read 0.981 — so a side that does not cover the
    catalogue is refused (complete_sides first)."""
    for name in dict.fromkeys(representations):
        require_complete(lab, name, "Recall@K over the catalogue")
    ev = evaluate(lab, load_interactions(lab.workspace), split="loo", representations=list(representations), ks=(k,),
                  seed=seed, min_interactions=2, min_pool_items=min_pool_items, min_shoppers=min_shoppers,
                  progress=progress)
    return {
        "k": k, "users": ev.filter.shoppers_evaluated, "pool": ev.pool_size,
        "recall": {name: ev.estimate(name, f"recall@{k}") for name in ev.methods},  # mean, lo, hi, n
        "filter": ev.filter, "seed": seed, "caveat": RECALL_CAVEAT,
    }


# --- promotion ------------------------------------------------------------------------------
def promotion_plan(lab: Lab, prompt_ref: str, provider: str, model: str = "", connection: str = "") -> SyncPlan:
    """What promoting this run would describe first (shown, with its estimate, before the button); through the
    named connection, else where the run went before."""
    if connection:
        named = get_connection(lab.store, connection)
        return plan_run(lab, lab.prompts.get(prompt_ref), named.provider, named.model, named)
    known = set(provider_names()) | set(lab.describer_overrides)
    if provider not in known:
        raise ConfigError(f"unknown provider {provider!r}; choose one of: {', '.join(sorted(known))}")
    return plan_run(lab, lab.prompts.get(prompt_ref), provider, model)


def promote(lab: Lab, prompt_ref: str, provider: str, model: str = "", *, connection: str = "",
            allow_hosted: bool = False, progress: Progress | None = None) -> PromptVersion:
    """Make a run the catalogue's active one (search, cold start, explanations) only once it covers the whole
    catalogue: the rest is described first (cached items are free), through the run's connection; until then the
    previous run stays active."""
    require(lab.store, Action.PROMOTE)
    prompt = lab.prompts.get(prompt_ref)
    plan = promotion_plan(lab, prompt_ref, provider, model, connection)
    complete_run(lab, prompt, plan, allow_hosted=allow_hosted, progress=progress)
    fact = coverage(lab, plan.run)
    if not fact.complete:
        active, (was, was_model) = lab.active_prompt().ref, lab.active_provider()
        raise VitrineError(f"{plan.run} covers {fact.label()} after describing the rest (failures: retry them in "
                           f"Description QA); {active} via {was}/{was_model or 'default'} stays active")
    lab.store.set_setting("active_prompt", prompt.ref)
    lab.store.set_setting("active_provider", plan.provider)
    lab.store.set_setting("active_model", plan.model if connection else model.strip())
    record(lab.store, Action.PROMOTE, detail=f"promoted {plan.run} to the active run"
           + (f" (connection {connection})" if connection else ""))
    return prompt
