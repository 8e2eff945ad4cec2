"""Which description run a command means: the active one, or one named PROMPT@vN/PROVIDER/MODEL."""

from __future__ import annotations

from core.errors import VitrineError
from core.lab import Lab
from core.services.ab import Side  # a run: the exact prompt version, provider and model; .run is its name


def active_run(lab: Lab) -> Side:
    """The run the catalogue is described under (a default model resolved by its provider, as sync names it)."""
    provider, model = lab.active_provider()
    describer = lab.describer(provider, model=model or None)
    return Side(lab.active_prompt(), describer.provider, describer.model)


def described_runs(lab: Lab) -> list[str]:
    """Names of the runs that hold at least one description, for error messages that say what exists."""
    descs = lab.store.descriptions()
    return sorted({f"{n}@v{v}/{p}/{m}" for n, v, p, m in
                   zip(descs["prompt_name"], descs["prompt_version"], descs["provider"], descs["model"], strict=True)})


def resolve_run(lab: Lab, name: str | None) -> Side:
    """The named run (a model may hold '/', a prompt or provider never does), else the active one; a run without
    a single description is refused with the runs that have some."""
    if not name:
        return active_run(lab)
    prompt_ref, _, rest = name.strip().partition("/")
    provider, _, model = rest.partition("/")
    if not (prompt_ref and provider and model):
        raise VitrineError(f"{name!r} is not a run name: expected PROMPT@vN/PROVIDER/MODEL, e.g. "
                           f"{active_run(lab).run}")
    run = Side(lab.prompts.get(prompt_ref), provider, model)
    if lab.store.descriptions(prompt_hash=run.prompt.hash, provider=provider, model=model).empty:
        raise VitrineError(f"no descriptions under {run.run}; runs with descriptions: "
                           f"{', '.join(described_runs(lab)) or 'none (run `vitrine sync` first)'}")
    return run
