"""The describer interface and the @register decorator; core.describe.registry lists the built-in providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from core.describe.prompts import PromptVersion
from core.models import Description, ImageRef


@runtime_checkable
class Describer(Protocol):
    """Turns one image into a preference-oriented description under a prompt version."""

    provider: str
    model: str

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description: ...


DescriberFactory = Callable[..., Describer]
REGISTRY: dict[str, DescriberFactory] = {}
LABELS: dict[str, str] = {}


def register(name: str, label: str) -> Callable[[DescriberFactory], DescriberFactory]:
    """Class decorator: make a provider available to get_describer(name)."""

    def wrap(factory: DescriberFactory) -> DescriberFactory:
        REGISTRY[name] = factory
        LABELS[name] = label
        return factory

    return wrap
