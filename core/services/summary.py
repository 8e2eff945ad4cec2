"""What the home page shows: catalogue size, representations, providers and connections, each with whether a run
through it would start now."""

from __future__ import annotations

from dataclasses import dataclass

from core.describe.connections import Connection, list_connections
from core.describe.endpoints import Where, default_base_url, mask_url
from core.describe.registry import provider_class, provider_label, provider_names
from core.describe.secrets import route_key
from core.errors import ConfigError
from core.lab import Lab
from core.represent.coverage import list_representations


@dataclass
class ProviderStatus:
    name: str
    label: str
    available: bool  # a run with the provider's defaults would start now
    detail: str


def provider_status() -> list[ProviderStatus]:
    """Which providers can run now with their defaults: a keyed API needs its key, unless its *_BASE_URL variable
    points at a server of your own; the offline tagger always can (and is not an LVLM)."""
    out = []
    for name in provider_names():
        cls = provider_class(name)
        if cls.key_env_var is None:
            out.append(ProviderStatus(name, provider_label(name), True, "no key needed, runs locally"))
            continue
        route, server = route_key(name, None), default_base_url(name)
        at = f" at {mask_url(server)}" if server else ""
        detail = (route.problem + "; or add a connection to a server of your own" if route.problem
                  else f"key found ({route.source}){at}" if route.key else f"server{at}, no key needed")
        out.append(ProviderStatus(name, provider_label(name), not route.problem, detail))
    return out


@dataclass
class ConnectionStatus:
    connection: Connection
    where: Where
    available: bool  # a run through it would start now
    detail: str  # where its key comes from, or what is missing


def connection_status(lab: Lab) -> list[ConnectionStatus]:
    """Every named connection, with where its images go and whether a run through it would start now."""
    out = []
    for connection in list_connections(lab.store):
        route = lab.key_route(connection)
        detail = route.problem or (f"key: {route.source}" if route.key else "no key needed")
        out.append(ConnectionStatus(connection, lab.where(connection), not route.problem, detail))
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


def _described_as(lab: Lab, provider: str, model: str) -> str:
    """The model the active describer really runs: a blank setting means its default, an earlier revision's name
    (the offline tagger's) means the current one; a provider no longer installed shows the stored name."""
    try:
        return lab.describer(provider, model=model or None).model
    except ConfigError:
        return model


def workspace_summary(lab: Lab) -> WorkspaceSummary:
    items = lab.store.items()
    descs = lab.store.descriptions()
    reps = list_representations(lab)
    provider, model = lab.active_provider()
    connection = lab.connection(provider, model=model or None)
    model = _described_as(lab, provider, model)
    via = f" via {connection.name or connection.base_url}" if connection.explicit else ""
    return WorkspaceSummary(
        root=str(lab.workspace.root), items=len(items),
        categories=items["category"].value_counts().to_dict() if len(items) else {},
        descriptions=int((descs["error"] == "").sum()), failed_descriptions=int((descs["error"] != "").sum()),
        representations=reps[["name", "kind", "dim", "count", "catalogue", "coverage", "stale", "missing"]]
        .to_dict("records"),
        active_prompt=lab.active_prompt().ref, active_provider=f"{provider}{'/' + model if model else ''}{via}",
        has_interactions=lab.workspace.interactions_csv.exists(),
    )
