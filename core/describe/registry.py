"""Providers by name, built-ins included: importing the provider modules here runs their @register decorators."""

from __future__ import annotations

from core.describe import base
from core.describe.base import Describer
from core.describe.providers import anthropic_provider, offline, openai_provider, simulated
from core.errors import ConfigError

BUILT_INS = (offline, openai_provider, anthropic_provider, simulated)  # imported for their registrations, in menu order


def provider_names() -> list[str]:
    return list(base.REGISTRY)


def provider_label(name: str) -> str:
    return base.LABELS.get(name, name)


def provider_class(name: str) -> type[Describer]:
    """The registered class: its capabilities (needs_key, key_env_var, supports_batch, is_lvlm) without building it."""
    try:
        return base.REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; choose one of: {', '.join(base.REGISTRY)}") from None


def get_describer(name: str, **options: object) -> Describer:
    """Build a provider by name; options (model, base_url, api_key, ...) go to its constructor."""
    return provider_class(name)(**{k: v for k, v in options.items() if v not in (None, "")})
