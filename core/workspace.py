"""Where a workspace lives: --workspace, then VITRINE_WORKSPACE, then ./workspace."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.config import settings


@dataclass(frozen=True)
class Workspace:
    """One folder: a LanceDB database (db/), a content-addressed image store (images/, thumbs/) and saved prompts."""

    root: Path

    @property
    def db_uri(self) -> str:
        """LanceDB connects by URI, so an object-store URI can replace this without code changes."""
        return settings().db_uri or str(self.root / "db")

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def prompts_dir(self) -> Path:
        """Prompt versions the user saves; the shipped seeds beside the code are never written."""
        return self.root / "prompts"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def interactions_csv(self) -> Path:
        return self.root / "interactions.csv"

    def exists(self) -> bool:
        return (self.root / "db").is_dir()

    def ensure(self) -> Workspace:
        for d in (self.root, self.images_dir, self.thumbs_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Workspace:
    chosen = path or settings().workspace
    return Workspace(Path(chosen).expanduser().resolve())
