"""What the home page shows: catalogue size, representations, providers."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.describe.registry import provider_label, provider_names
from core.describe.secrets import ENV_VARS, find_key
from core.lab import Lab
from core.represent.coverage import list_representations

BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


@dataclass
class ProviderStatus:
    name: str
    label: str
    available: bool
    detail: str


def provider_status() -> list[ProviderStatus]:
    """Which providers can run now; the offline tagger always can (and is not an LVLM)."""
    out = []
    for name in provider_names():
        if name not in ENV_VARS:
            out.append(ProviderStatus(name, provider_label(name), True, "no key needed, runs locally"))
            continue
        if find_key(name):
            out.append(ProviderStatus(name, provider_label(name), True, f"key found ({ENV_VARS[name]})"))
        elif os.environ.get(BASE_URL_ENV[name]):
            out.append(ProviderStatus(name, provider_label(name), True,
                                      f"local server at {os.environ[BASE_URL_ENV[name]]}"))
        else:
            out.append(ProviderStatus(name, provider_label(name), False, f"set {ENV_VARS[name]} to enable"))
    return out


@dataclass
class WorkspaceSummary:
    root: str
    items: int
    categories: dict[str, int]
    descriptions: int
    failed_descriptions: int
    representations: list[dict]
    active_prompt: str
    active_provider: str
    has_interactions: bool


def workspace_summary(lab: Lab) -> WorkspaceSummary:
    items = lab.store.items()
    descs = lab.store.descriptions()
    reps = list_representations(lab)
    provider, model = lab.active_provider()
    return WorkspaceSummary(
        root=str(lab.workspace.root), items=len(items),
        categories=items["category"].value_counts().to_dict() if len(items) else {},
        descriptions=int((descs["error"] == "").sum()), failed_descriptions=int((descs["error"] != "").sum()),
        representations=reps[["name", "kind", "dim", "count"]].to_dict("records"),
        active_prompt=lab.active_prompt().ref, active_provider=f"{provider}{'/' + model if model else ''}",
        has_interactions=lab.workspace.interactions_csv.exists(),
    )
