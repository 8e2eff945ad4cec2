"""Value types shared by every layer: image references, attributes and descriptions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

FACETS: tuple[str, ...] = ("style", "material", "colour", "pattern", "usage_context", "occasion")

Progress = Callable[[int, int, str], None]  # (done, total, label): every long job reports through one


class Attributes(BaseModel):
    """Structured, preference-oriented facets; every facet is a short list of lowercase phrases."""

    style: list[str] = Field(default_factory=list)
    material: list[str] = Field(default_factory=list)
    colour: list[str] = Field(default_factory=list)
    pattern: list[str] = Field(default_factory=list)
    usage_context: list[str] = Field(default_factory=list)
    occasion: list[str] = Field(default_factory=list)

    @field_validator("*", mode="before")
    @classmethod
    def _listify(cls, value: object) -> list[str]:
        """LVLMs return either a string or a list per facet; normalise to a clean list."""
        if value is None:
            return []
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else [value]
        return [str(v).strip().lower() for v in items if str(v).strip()]

    def facet(self, name: str) -> list[str]:
        return list(getattr(self, name))

    def covered(self) -> dict[str, bool]:
        return {f: bool(getattr(self, f)) for f in FACETS}


class DescriptionOutput(BaseModel):
    """The JSON object every provider must produce (the prompts' declared output schema)."""

    description: str
    attributes: Attributes = Field(default_factory=Attributes)


def output_json_schema() -> dict:
    """A strict JSON schema for structured output (OpenAI json_schema / Anthropic tool input)."""
    facet_schema = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "attributes": {
                "type": "object",
                "properties": {f: facet_schema for f in FACETS},
                "required": list(FACETS),
                "additionalProperties": False,
            },
        },
        "required": ["description", "attributes"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ImageRef:
    """A stored image plus the item context a prompt may reference ({title}, {category}, ...)."""

    sha256: str
    path: Path
    context: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def media_type(self) -> str:
        ext = self.path.suffix.lower().lstrip(".")
        return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
                "webp": "image/webp", "gif": "image/gif"}.get(ext, "image/png")


def inputs_digest(inputs: Mapping[str, str]) -> str:
    """Digest of the item fields a prompt renders ({title}, {category}, ...); '' when it renders none."""
    if not inputs:
        return ""
    return hashlib.sha256(json.dumps(sorted(inputs.items())).encode()).hexdigest()[:16]


def description_key(image_sha256: str, prompt_hash: str, provider: str, model: str, *, inputs_hash: str) -> str:
    """Content identity of a description: everything it was made from, so nothing is paid for twice and a
    title edit is a new input, not a cache hit. A prompt that renders no item field keeps its earlier keys."""
    parts = [image_sha256, prompt_hash, provider, model, *([inputs_hash] if inputs_hash else [])]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


class Description(BaseModel):
    """One provider's description of one image under one prompt version, with its cost."""

    image_sha256: str
    prompt_name: str
    prompt_version: int
    prompt_hash: str
    provider: str
    model: str
    inputs_hash: str = ""  # inputs_digest of the item fields the prompt rendered (the run stamps it)
    text: str = ""
    attributes: Attributes = Field(default_factory=Attributes)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    error: str = ""

    @property
    def key(self) -> str:
        return description_key(self.image_sha256, self.prompt_hash, self.provider, self.model,
                               inputs_hash=self.inputs_hash)

    @property
    def ok(self) -> bool:
        return not self.error
