"""One settings object: the only place Vitrine reads environment variables, so every knob is listed here."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_DIR = PACKAGE_DIR.parent  # the checkout: seed prompts/ and sample_catalog/ live beside core/
SEED_PROMPTS_DIR = PROJECT_DIR / "prompts"
SAMPLE_CATALOG_DIR = PROJECT_DIR / "sample_catalog"
DEFAULT_WORKSPACE = "workspace"
OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@dataclass(frozen=True)
class Settings:
    """Every environment-driven setting with its variable and default; built fresh so tests can monkeypatch."""

    workspace: str  # VITRINE_WORKSPACE, else ./workspace
    db_uri: str | None  # VITRINE_DB_URI: an object-store URI replaces <workspace>/db
    cache_dir: Path  # VITRINE_CACHE_DIR, else $XDG_CACHE_HOME/vitrine, else ~/.cache/vitrine
    environ: Mapping[str, str]
    # VITRINE_MATRIX_CACHE_MB (megabytes), else None: core.represent.recommend.MATRIX_CACHE_BYTES
    matrix_cache_bytes: int | None = None
    # VITRINE_DB_STORAGE_OPTIONS: a JSON object of object-store options (region, endpoint, ...) for LanceDB and for
    # every Lance read and write of the ray engine; unset: the standard variables (AWS_REGION, ...) alone
    storage_options: dict[str, str] | None = None
    ray_address: str | None = None  # RAY_ADDRESS: the cluster `--engine ray` joins; unset: a single-node one here

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        cache = env.get("VITRINE_CACHE_DIR") or str(Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                                                    / "vitrine")
        return cls(workspace=env.get("VITRINE_WORKSPACE") or DEFAULT_WORKSPACE,
                   db_uri=env.get("VITRINE_DB_URI") or None, cache_dir=Path(cache).expanduser(), environ=env,
                   matrix_cache_bytes=_megabytes(env, "VITRINE_MATRIX_CACHE_MB"),
                   storage_options=_string_map(env, "VITRINE_DB_STORAGE_OPTIONS"),
                   ray_address=env.get("RAY_ADDRESS") or None)

    def variable(self, name: str) -> str | None:
        """A provider's key or base-URL variable (named on the provider class), empty treated as unset."""
        return self.environ.get(name) or None


def _megabytes(env: Mapping[str, str], name: str) -> int | None:
    """A size variable in megabytes as bytes (unset or empty: None); anything but a whole number >= 0 is refused."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"{name} must be a whole number of megabytes (0 or more), not {raw!r}")
    return int(raw) << 20


def _string_map(env: Mapping[str, str], name: str) -> dict[str, str] | None:
    """A JSON object variable of string values (unset or empty: None); anything else is refused by name."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} must be a JSON object such as {{\"region\": \"eu-west-1\"}}: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{name} must be a JSON object of string values, not {raw!r}")
    return value


def settings() -> Settings:
    return Settings.from_env()


def force_offline() -> None:
    """Nothing may download weights at run time: Hugging Face libraries must never reach for the hub."""
    for flag in OFFLINE_FLAGS:
        os.environ.setdefault(flag, "1")
