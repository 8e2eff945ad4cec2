"""A describe run end to end: describe (sync or through a Batch API), then embed into the run's representation."""

from __future__ import annotations

from functools import partial
from typing import Any

from core.access.audit import Action, record
from core.access.roles import require
from core.describe.base import Describer
from core.describe.connections import Connection, remember
from core.describe.prompts import PromptVersion
from core.engines.base import Engine
from core.engines.local import LOCAL
from core.errors import ConfigError
from core.lab import Lab, open_lab
from core.models import Progress
from core.represent.representations import embed_description_run
from core.runs.batch import BatchReport, describe_batch
from core.runs.describe import RunReport, describe_items, select_items


def run_prompt(lab: Lab, prompt: PromptVersion, provider: str = "offline", *, model: str | None = None,
               base_url: str | None = None, api_key: str | None = None, connection: Connection | None = None,
               concurrency: int | None = None, limit: int | None = None, skus: list[str] | None = None,
               retry_failed: bool = False, progress: Progress | None = None, engine: Engine = LOCAL) -> RunReport:
    """Describe the (selected) catalogue through one connection (given, else Lab.connection's: where this
    provider/model went before) and embed the results into the run's representation; the connection is remembered,
    so the run's follow-ups go to the same place. Concurrency defaults to the connection's. An engine other than
    `local` takes the offline tagger or a self-hosted server; hosted APIs scale through their Batch APIs instead."""
    require(lab.store, Action.DESCRIBE)
    connection = connection or lab.connection(provider, model=model, base_url=base_url)
    if problem := lab.key_route(connection, api_key).problem:
        raise ConfigError(problem)
    if engine is not LOCAL and lab.where(connection) == "hosted API":
        raise ConfigError(f"the {engine.name} engine describes with the offline tagger or a self-hosted server, not "
                          f"a hosted API ({connection.label()}): use `vitrine describe --batch` for that")
    describer = lab.describer(connection=connection, api_key=api_key)
    items = select_items(lab, skus=skus, limit=limit)
    rebuild = partial(open_describer, str(lab.workspace.root), connection, api_key)
    try:
        report = describe_items(lab, items, prompt, describer, concurrency=concurrency or connection.concurrency,
                                retry_failed=retry_failed, progress=progress, engine=engine, rebuild=rebuild)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # stopped (Ctrl-C, Streamlit's Stop or rerun): keep it searchable too
            embed_description_run(lab, prompt, describer.provider, describer.model, engine)
        raise
    finally:
        remember(lab.store, connection, describer)
    report.representation = embed_description_run(lab, prompt, describer.provider, describer.model, engine)
    lab.store.optimize_if_fragmented()  # a run leaves a fragment per flush; compacting keeps later reads fast
    record(lab.store, Action.DESCRIBE, skus=skus or (),
           detail=f"{report.summary()}; connection {connection.label()}")
    return report


def open_describer(workspace: str, connection: Connection, api_key: str | None) -> Describer:
    """The run's describer, built afresh from its workspace and connection in another process (a Ray actor)."""
    return open_lab(workspace).describer(connection=connection, api_key=api_key)


def run_batch(lab: Lab, prompt: PromptVersion, provider: str, **options: Any) -> BatchReport:
    """describe_batch (same options), then embed whatever this call ingested into the run's representation."""
    require(lab.store, Action.DESCRIBE)
    report = describe_batch(lab, prompt, provider, **options)
    if report.ingested:
        report.representation = embed_description_run(lab, prompt, report.provider, report.model)
        lab.store.optimize_if_fragmented()
    record(lab.store, Action.DESCRIBE,
           detail=f"{report.summary()}; connection {options.get('base_url') or 'default endpoint'}")
    return report

