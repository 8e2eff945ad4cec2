"""The describer interface and the provider registry (look providers up by name, not if/elif)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from core.errors import ConfigError
from core.models import Description, ImageRef
from core.prompts import PromptVersion


@runtime_checkable
class Describer(Protocol):
    """Turns one image into a preference-oriented description under a prompt version."""

    provider: str
    model: str

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description: ...


DescriberFactory = Callable[..., Describer]
_REGISTRY: dict[str, DescriberFactory] = {}
_LABELS: dict[str, str] = {}


def register(name: str, label: str) -> Callable[[DescriberFactory], DescriberFactory]:
    """Class decorator: make a provider available to get_describer(name)."""

    def wrap(factory: DescriberFactory) -> DescriberFactory:
        _REGISTRY[name] = factory
        _LABELS[name] = label
        return factory

    return wrap


def provider_names() -> list[str]:
    _load_builtin()
    return list(_REGISTRY)


def provider_label(name: str) -> str:
    _load_builtin()
    return _LABELS.get(name, name)


def get_describer(name: str, **options: object) -> Describer:
    """Build a provider by name; options (model, base_url, api_key, ...) go to its constructor."""
    _load_builtin()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; choose one of: {', '.join(_REGISTRY)}") from None
    return factory(**{k: v for k, v in options.items() if v not in (None, "")})


def _load_builtin() -> None:
    """Import the built-in providers so their @register decorators run (cheap: models load lazily)."""
    import core.describers.anthropic_provider  # noqa: F401
    import core.describers.offline  # noqa: F401
    import core.describers.openai_provider  # noqa: F401
