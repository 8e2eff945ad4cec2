"""Composition root: builds the store, image store, prompts, encoder and describers in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from core.catalog.images import ImageStore
from core.catalog.store import Store
from core.describe.base import Describer
from core.describe.connections import Connection, run_connection
from core.describe.endpoints import Where, default_base_url
from core.describe.identity import item_context
from core.describe.prompts import DEFAULT_PROMPTS_DIR, PromptLibrary, PromptVersion
from core.describe.providers.sdk import NO_KEY
from core.describe.registry import provider_class
from core.describe.secrets import KeyRoute, route_key
from core.errors import ConfigError
from core.models import ImageRef
from core.nets.encoders import MiniLMEncoder, TextEncoder
from core.workspace import Workspace, resolve_workspace

DEFAULT_PROVIDER = "offline"


@dataclass
class Lab:
    """Everything a page or CLI command needs; tests build one with fakes via open_lab(...)."""

    workspace: Workspace
    store: Store
    prompts: PromptLibrary
    _encoder: TextEncoder | None = None
    describer_overrides: dict[str, Describer] = field(default_factory=dict)
    _describers: dict[tuple, Describer] = field(default_factory=dict)

    @cached_property
    def images(self) -> ImageStore:
        return ImageStore(self.workspace.images_dir, self.workspace.thumbs_dir)

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = MiniLMEncoder()
        return self._encoder

    def connection(self, provider: str = DEFAULT_PROVIDER, *, model: str | None = None,
                   base_url: str | None = None) -> Connection:
        """Where a describe of provider/model goes: an explicit base URL; else the connection that provider/model was
        last run through, so a run's follow-ups go where the run went; else the provider's default endpoint."""
        if base_url:
            return Connection(provider=provider, model=model or "", base_url=base_url)
        model = model or self._build(Connection(provider=provider), None).model
        return run_connection(self.store, provider, model) or Connection(provider=provider, model=model)

    def describer(self, provider: str = DEFAULT_PROVIDER, *, model: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, connection: Connection | None = None) -> Describer:
        """The describer for a connection (by default Lab.connection's); built once per options and reused."""
        if connection is None and provider in self.describer_overrides:
            return self.describer_overrides[provider]
        return self._build(connection or self.connection(provider, model=model, base_url=base_url), api_key)

    def key_route(self, connection: Connection, api_key: str | None = None) -> KeyRoute:
        """The key requests through this connection carry, and why a run through it cannot start ('' if it can)."""
        if connection.provider in self.describer_overrides or provider_class(connection.provider).key_env_var is None:
            return KeyRoute(None, "")
        return route_key(connection.provider, connection.base_url or None, connection=connection.name,
                         explicit=api_key)

    def where(self, connection: Connection) -> Where:
        """Where images sent through this connection go (decides consent and how a price reads)."""
        override = self.describer_overrides.get(connection.provider)
        keyed = override.needs_key if override is not None else provider_class(connection.provider).needs_key
        return connection.where(keyed=keyed)

    def _build(self, connection: Connection, api_key: str | None) -> Describer:
        if connection.provider in self.describer_overrides:
            return self.describer_overrides[connection.provider]
        cls = provider_class(connection.provider)
        options = connection.options(cls)
        if connection.base_url and "base_url" not in options:
            raise ConfigError(f"{connection.provider} runs on this machine: it takes no base URL")
        if cls.key_env_var is not None:  # a key goes only where it belongs; a server with none gets a placeholder
            route = self.key_route(connection, api_key)
            base_url = None if route.problem else connection.base_url or default_base_url(connection.provider)
            options |= {"base_url": base_url, "api_key": route.key or (None if route.problem else NO_KEY)}
        key = (connection.provider, tuple(sorted((k, str(v)) for k, v in options.items() if v not in (None, ""))))
        if key not in self._describers:
            self._describers[key] = cls(**{k: v for k, v in options.items() if v not in (None, "")})
        return self._describers[key]

    def image_ref(self, item: dict) -> ImageRef:
        """The describer's view of an item: its stored image plus prompt variables from metadata."""
        return ImageRef(item["image_sha256"], self.images.path(item["image_sha256"], item["image_ext"]),
                        item_context(item))

    def active_prompt(self) -> PromptVersion:
        return self.prompts.get(self.store.get_setting("active_prompt", "preference"))

    def active_provider(self) -> tuple[str, str]:
        """(provider, model) used for the catalogue and cold-start; offline unless promoted otherwise."""
        return (self.store.get_setting("active_provider", DEFAULT_PROVIDER),
                self.store.get_setting("active_model", ""))


def open_lab(workspace: str | os.PathLike[str] | Workspace | None = None, *, encoder: TextEncoder | None = None,
             describers: dict[str, Describer] | None = None, seed_prompts_dir: Path | None = None) -> Lab:
    """Prompts: read-only seeds (shipped, or injected by tests) plus the workspace's own saved versions."""
    ws = workspace if isinstance(workspace, Workspace) else resolve_workspace(workspace)
    ws.ensure()
    prompts = PromptLibrary(seed_prompts_dir or DEFAULT_PROMPTS_DIR, ws.prompts_dir)
    return Lab(workspace=ws, store=Store(ws.db_uri), prompts=prompts, _encoder=encoder,
               describer_overrides=dict(describers or {}))
