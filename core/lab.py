"""Composition root: builds the store, image store, prompts, encoder and describers in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from core.catalog.images import ImageStore
from core.catalog.store import Store
from core.describe.base import Describer
from core.describe.identity import item_context
from core.describe.prompts import DEFAULT_PROMPTS_DIR, PromptLibrary, PromptVersion
from core.describe.registry import get_describer
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

    def describer(self, provider: str = DEFAULT_PROVIDER, **options: object) -> Describer:
        """Providers are built once per (name, options) and reused: models and clients load lazily."""
        if provider in self.describer_overrides:
            return self.describer_overrides[provider]
        key = (provider, tuple(sorted((k, str(v)) for k, v in options.items() if v not in (None, ""))))
        if key not in self._describers:
            self._describers[key] = get_describer(provider, **options)
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
