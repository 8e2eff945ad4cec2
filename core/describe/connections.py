"""Connections: how this workspace reaches an LVLM (provider, model, server, limits), stored in LanceDB, never a key.

Named connections live in the `connections` table. Every run made through an explicit connection (named, or a bare
--base-url) is remembered per provider/model in `connection_runs`, so the run's follow-ups (retry, regenerate, sync,
cold start, promote) go to the same server instead of falling back to the provider's hosted API.
"""

from __future__ import annotations

import inspect
import json
import re

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from core.access.audit import Action, record
from core.access.roles import require
from core.catalog.store import Store, now_iso, sql_str
from core.describe.base import Describer
from core.describe.endpoints import Where, check_base_url, where
from core.describe.registry import provider_class, provider_names
from core.describe.secrets import connection_key_var
from core.errors import ConfigError

TABLE = "connections"
RUNS_TABLE = "connection_runs"
SCHEMA = pa.schema([
    ("name", pa.string()), ("provider", pa.string()), ("model", pa.string()), ("base_url", pa.string()),
    ("timeout", pa.float64()), ("concurrency", pa.int32()), ("capabilities", pa.string()), ("created_at", pa.string()),
    ("item_deadline", pa.float64()), ("image_max_side", pa.int32()), ("detail", pa.string()),
])
RUNS_SCHEMA = pa.schema([("describer", pa.string()), ("connection", pa.string()), ("recorded_at", pa.string())])
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_CONCURRENCY = 64  # requests in flight; beyond this a provider only answers 429s and a laptop runs out of sockets
# constructor options a connection hands its describer, when its class accepts them
OPTIONS = ("model", "base_url", "timeout", "item_deadline", "image_max_side", "detail")
CAPABILITY_OPTIONS = ("structured_mode",)  # remembered capabilities handed back the same way


class Connection(BaseModel):
    """Provider, model, server and limits; name '' is a run's unnamed connection (a bare --base-url or the provider's
    default endpoint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    provider: str
    model: str = ""  # '' only for the provider's default model at its default endpoint
    base_url: str = ""  # '' : the provider's default endpoint
    timeout: float | None = None  # seconds per request; None: the provider's default (so for the next three)
    concurrency: int = 4
    item_deadline: float | None = None  # seconds per item, retries and re-asks included
    image_max_side: int | None = None  # images are downscaled to this long side (pixels) before sending
    detail: str | None = None  # OpenAI's image detail: auto, low or high
    capabilities: dict[str, str] = Field(default_factory=dict)  # learnt on first use, e.g. structured_mode

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value and not NAME.match(value):
            raise ConfigError(f"connection name {value!r}: use 1-40 lowercase letters, digits and '-', starting "
                              "with a letter or digit (e.g. ollama, vllm-gpu)")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("timeout", "item_deadline")
    @classmethod
    def _seconds(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and not 0 < value <= 3600:
            raise ConfigError(f"{info.field_name} must be between 0 and 3600 seconds, not {value:g}")
        return value

    @field_validator("concurrency")
    @classmethod
    def _concurrency(cls, value: int) -> int:
        if not 1 <= value <= MAX_CONCURRENCY:
            raise ConfigError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {value}")
        return value

    @model_validator(mode="after")
    def _model_named(self) -> Connection:
        if self.base_url and not self.model.strip():
            raise ConfigError(f"name the model to ask {self.base_url} for (e.g. --model llava:7b): a server's "
                              "models are its own, and a default model name would be the hosted API's")
        return self

    @property
    def explicit(self) -> bool:
        """Chosen by the user (a name or a base URL), so the runs made through it remember it."""
        return bool(self.name or self.base_url)

    @property
    def key_var(self) -> str:
        return connection_key_var(self.name) if self.name else ""

    def where(self, *, keyed: bool) -> Where:
        return where(self.provider, self.base_url or None, keyed=keyed)

    def options(self, cls: type) -> dict[str, object]:
        """Constructor options for the provider class, limited to those it accepts (unset ones left to it)."""
        accepted = set(inspect.signature(cls).parameters)
        values: dict[str, object] = {k: getattr(self, k) for k in OPTIONS} | {
            k: self.capabilities.get(k) for k in CAPABILITY_OPTIONS}
        return {k: v for k, v in values.items() if k in accepted and v not in (None, "")}

    def label(self) -> str:
        target = f"{self.provider}/{self.model or 'default'}" + (f" at {self.base_url}" if self.base_url else "")
        return f"{self.name} ({target})" if self.name else target


# --- named connections ------------------------------------------------------------------------------------------

def _unset(value: object) -> bool:
    return value is None or value != value or value == ""  # a null number reads back as NaN


def _from_row(row: dict) -> Connection:
    kinds = {"timeout": float, "item_deadline": float, "image_max_side": int, "detail": str}
    return Connection(name=row["name"], provider=row["provider"], model=row["model"], base_url=row["base_url"],
                      concurrency=int(row["concurrency"]), capabilities=json.loads(row["capabilities"] or "{}"),
                      **{k: kind(row[k]) for k, kind in kinds.items() if not _unset(row.get(k))})


def _row(connection: Connection, created_at: str) -> dict:
    return connection.model_dump(exclude={"capabilities"}) | {
        "capabilities": json.dumps(connection.capabilities, sort_keys=True), "created_at": created_at}


def connectable_providers() -> list[str]:
    """Providers that call an API or server, so a connection can name one (the rest run on this machine)."""
    return [name for name in provider_names() if provider_class(name).needs_key]


def list_connections(store: Store) -> list[Connection]:
    frame = store.frame(TABLE, SCHEMA).sort_values("name", kind="stable")
    return [_from_row(r) for r in frame.to_dict("records")]


def get_connection(store: Store, name: str) -> Connection:
    rows = store.frame(TABLE, SCHEMA, f"name = {sql_str(name)}")
    if rows.empty:
        known = ", ".join(c.name for c in list_connections(store)) or "none yet (`vitrine connection add`)"
        raise ConfigError(f"no connection named {name!r}; connections in this workspace: {known}")
    return _from_row(rows.iloc[0].to_dict())


def add_connection(store: Store, connection: Connection) -> Connection:
    """Store a new named connection; an existing name is refused (remove it first), so nothing is overwritten."""
    require(store, Action.CONNECTION)
    if not connection.name:
        raise ConfigError("give the connection a name")
    if not connection.model.strip():
        raise ConfigError(f"connection {connection.name!r} needs a model (the name the server or API knows it by)")
    cls = provider_class(connection.provider)  # an unknown name says which exist
    if connection.provider not in connectable_providers():
        raise ConfigError(f"{connection.provider} runs on this machine without a server: it needs no connection "
                          f"(connections are for {', '.join(connectable_providers())})")
    cls(**connection.options(cls))  # the provider checks its own options (detail, image size) before anything is kept
    if connection.name in {c.name for c in list_connections(store)}:
        raise ConfigError(f"a connection named {connection.name!r} already exists; remove it first "
                          f"(`vitrine connection remove {connection.name}`) or pick another name")
    store.upsert_rows(TABLE, SCHEMA, [_row(connection, now_iso())], "name")
    record(store, Action.CONNECTION, detail=f"added connection {connection.label()}")
    return connection


def remove_connection(store: Store, name: str) -> Connection:
    """Forget a named connection; runs made through it keep their own record, so they still go where they went."""
    require(store, Action.CONNECTION)
    connection = get_connection(store, name)
    store.delete_rows(TABLE, f"name = {sql_str(name)}")
    record(store, Action.CONNECTION, detail=f"removed connection {connection.label()}")
    return connection


# --- the connection each provider/model was run through ----------------------------------------------------------

def _describer_key(provider: str, model: str) -> str:
    return f"{provider}/{model}"


def run_connection(store: Store, provider: str, model: str) -> Connection | None:
    """The connection provider/model was last run through: the named one as it is now (its timeout, learnt
    capabilities) while it still points where the run went, else the run's own record of it."""
    rows = store.frame(RUNS_TABLE, RUNS_SCHEMA, f"describer = {sql_str(_describer_key(provider, model))}")
    if rows.empty:
        return None
    recorded = Connection.model_validate_json(rows.iloc[0]["connection"])
    if recorded.name:
        current = next((c for c in list_connections(store) if c.name == recorded.name), None)
        if current is not None and (current.provider, current.model, current.base_url) == (
                recorded.provider, recorded.model, recorded.base_url):
            return current
    return recorded


def learn(store: Store, connection: Connection, describer: Describer) -> Connection:
    """What the describer learnt on its first call (the structured-output rung that worked), kept on the connection
    and, for a named one, in the workspace, so the next run starts on that rung instead of probing again."""
    learnt = {k: str(v) for k in CAPABILITY_OPTIONS if (v := getattr(describer, k, None))}
    updated = connection.model_copy(update={"model": describer.model,
                                            "capabilities": connection.capabilities | learnt})
    if connection.name and learnt.items() - connection.capabilities.items():
        stored = store.frame(TABLE, SCHEMA, f"name = {sql_str(connection.name)}")
        if not stored.empty:
            store.upsert_rows(TABLE, SCHEMA, [_row(updated, stored.iloc[0]["created_at"])], "name")
    return updated


def remember(store: Store, connection: Connection, describer: Describer) -> Connection:
    """After a run: learn from it, and remember an explicit connection for the run's provider/model."""
    updated = learn(store, connection, describer)
    if updated.explicit and run_connection(store, updated.provider, updated.model) != updated:
        store.upsert_rows(RUNS_TABLE, RUNS_SCHEMA, [{
            "describer": _describer_key(updated.provider, updated.model), "connection": updated.model_dump_json(),
            "recorded_at": now_iso()}], "describer")
    return updated
