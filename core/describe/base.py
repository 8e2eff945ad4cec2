"""The describer interface and the @register decorator; core.describe.registry lists the built-in providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol, TypeVar, runtime_checkable

from core.describe.prompts import PromptVersion
from core.models import Description, ImageRef


@runtime_checkable
class Describer(Protocol):
    """Turns one image into a preference-oriented description under a prompt version.

    The class attributes are the provider's capabilities, readable from the registered class before one is built.
    """

    provider: ClassVar[str]
    needs_key: ClassVar[bool]  # the hosted API wants a key (a local base_url never does)
    key_env_var: ClassVar[str | None]  # where core.describe.secrets looks for that key
    supports_batch: ClassVar[bool]  # has a provider Batch API (core.runs.batch)
    is_lvlm: ClassVar[bool]  # a vision-language model, not a tagger rendering templates
    model: str

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description: ...


DescriberClass = TypeVar("DescriberClass", bound=type[Describer])
REGISTRY: dict[str, type[Describer]] = {}
LABELS: dict[str, str] = {}


def register(name: str, label: str) -> Callable[[DescriberClass], DescriberClass]:
    """Class decorator: make a provider available to get_describer(name)."""

    def wrap(cls: DescriberClass) -> DescriberClass:
        REGISTRY[name] = cls
        LABELS[name] = label
        return cls

    return wrap
