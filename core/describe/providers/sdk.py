"""What the SDK-backed providers share: image encoding, output validation, timing and key handling."""

from __future__ import annotations

import base64
import json
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

from pydantic import ValidationError

from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.errors import ProviderOutputError, from_sdk_error
from core.describe.secrets import find_key, require_key
from core.errors import VitrineError
from core.models import Attributes, Description, DescriptionOutput, ImageRef

NO_KEY = "not-needed"  # local OpenAI/Anthropic-compatible servers ignore the key, but SDKs want one


@dataclass(frozen=True)
class RawReply:
    """One API answer reduced to what we keep: the structured payload and token usage."""

    payload: str | dict
    input_tokens: int
    output_tokens: int


def encode_image(image: ImageRef) -> str:
    try:
        return base64.b64encode(image.path.read_bytes()).decode("ascii")
    except OSError as exc:
        raise VitrineError(f"cannot read image {image.path}: {exc.strerror or exc}") from exc


MAX_PAYLOAD_CHARS = 64_000  # far beyond any sane description; bigger payloads are not even parsed
OVERSIZE_FACTOR = 3  # a description over 3x the prompt's word budget is runaway output, not a description


def parse_output(payload: str | dict, who: str, max_words: int | None = None) -> DescriptionOutput:
    """Validate the model's structured output; anything unusable (or runaway long) is a ProviderOutputError."""
    size = len(payload) if isinstance(payload, str) else len(json.dumps(payload))
    if size > MAX_PAYLOAD_CHARS:
        raise ProviderOutputError(f"{who}: oversize output ({size:,} characters; limit {MAX_PAYLOAD_CHARS:,})")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ProviderOutputError(
                f"{who}: output is not valid JSON ({exc.msg} at char {exc.pos}): {payload[:80]!r}"
            ) from None
    try:
        output = DescriptionOutput.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "output"
        raise ProviderOutputError(
            f"{who}: output does not match the description schema: {where}: {err['msg']}"
        ) from None
    if not output.description.strip():
        raise ProviderOutputError(f"{who}: output has an empty description")
    words = len(output.description.split())
    if max_words is not None and words > OVERSIZE_FACTOR * max_words:
        raise ProviderOutputError(f"{who}: oversize output ({words} words; the prompt allows {max_words})")
    return output


def keep_facets(attributes: Attributes, facets: list[str]) -> Attributes:
    """Empty the facets the prompt did not ask for, so prompt versions compare like for like."""
    return Attributes(**{f: attributes.facet(f) for f in facets})


def build_description(image: ImageRef, prompt: PromptVersion, *, provider: str, model: str,
                      output: DescriptionOutput, reply: RawReply, latency_ms: float) -> Description:
    return Description(
        image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
        prompt_hash=prompt.hash, provider=provider, model=model,
        text=output.description.strip(), attributes=keep_facets(output.attributes, prompt.facets),
        input_tokens=reply.input_tokens, output_tokens=reply.output_tokens, latency_ms=latency_ms,
        cost_usd=cost_usd(provider, model, reply.input_tokens, reply.output_tokens),
    )


@dataclass
class SDKDescriber(ABC):
    """Template for providers backed by an official SDK: subclasses only build the client and the call."""

    provider: ClassVar[str]
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 4  # the SDK's own retry budget (429/5xx/connection), with its backoff
    _client: Any = field(default=None, init=False, repr=False, compare=False)
    _secret: str | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def who(self) -> str:
        return f"{self.provider}:{self.model}"

    @staticmethod
    @abstractmethod
    def sdk() -> ModuleType:
        """The SDK module, imported on first use (importing it at startup costs about a second)."""

    @abstractmethod
    def _new_client(self, api_key: str) -> Any: ...

    @abstractmethod
    def _request(self, client: Any, image_b64: str, media_type: str, text: str) -> RawReply:
        """One API call (the SDK retries inside it); raise ProviderOutputError for refusals."""

    def client(self) -> Any:
        """The SDK client, created once; a hosted API needs a key, a local base_url does not."""
        with self._lock:
            if self._client is None:
                if self.base_url is None:
                    self._secret = require_key(self.provider, self.api_key)
                else:
                    self._secret = find_key(self.provider, self.api_key) or NO_KEY
                self._client = self._new_client(self._secret)
            return self._client

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        client = self.client()
        image_b64 = encode_image(image)
        sdk = self.sdk()
        started = time.perf_counter()
        try:
            reply = self._request(client, image_b64, image.media_type, prompt.render(image.context))
        except sdk.APIError as exc:
            # `from None`: the SDK exception's text is the server's, which may quote the key.
            raise from_sdk_error(exc, sdk, provider=self.provider, model=self.model, secret=self._secret,
                                 max_retries=self.max_retries) from None
        latency_ms = (time.perf_counter() - started) * 1000
        output = parse_output(reply.payload, self.who, max_words=prompt.max_words)
        return build_description(image, prompt, provider=self.provider, model=self.model,
                                 output=output, reply=reply, latency_ms=latency_ms)
