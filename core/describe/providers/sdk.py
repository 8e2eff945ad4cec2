"""What the SDK-backed providers share: image encoding, output validation, timing, key handling, Batch API types."""

from __future__ import annotations

import base64
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import ValidationError

from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.errors import ProviderOutputError, from_sdk_error
from core.describe.secrets import find_key, require_key
from core.errors import VitrineError
from core.models import Attributes, Description, DescriptionOutput, ImageRef

T = TypeVar("T")
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


@dataclass(frozen=True)
class BatchLimits:
    """A provider's Batch API limits for one shard, and how long after creation it keeps the results."""

    max_requests: int
    max_bytes: int
    results_ttl: timedelta


@dataclass(frozen=True)
class Submitted:
    """A batch the provider accepted: its id, when the provider created it, and (OpenAI) the uploaded input file."""

    batch_id: str
    created: datetime
    file_id: str = ""


@dataclass(frozen=True)
class BatchState:
    """Where a provider batch stands: 'in_progress', 'ended' (results to fetch) or 'failed' (nothing to fetch)."""

    status: Literal["in_progress", "ended", "failed"]
    ended_at: datetime | None = None
    note: str = ""  # why it failed


@dataclass(frozen=True)
class BatchResult:
    """One request of an ended batch: the SDK-typed response (for parse_response), or why there is none."""

    custom_id: str
    response: Any = None
    error: str = ""


def jsonl(record: dict) -> bytes:
    """One compact JSON Lines record, as batch input files and create calls carry them."""
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


@dataclass
class SDKDescriber(ABC):
    """Template for providers backed by an official SDK: subclasses build the request and parse the reply, and
    the synchronous describe() and the Batch API shards (core.runs.batch) both compose those two methods."""

    provider: ClassVar[str]
    needs_key: ClassVar[bool] = True  # the hosted API does; a local base_url gets NO_KEY
    key_env_var: ClassVar[str | None] = None
    supports_batch: ClassVar[bool] = True
    is_lvlm: ClassVar[bool] = True
    batch_limits: ClassVar[BatchLimits]
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

    # --- one request -------------------------------------------------------------------------------

    @abstractmethod
    def build_request(self, image_b64: str, media_type: str, text: str) -> dict:
        """The SDK call's keyword arguments, which are also the JSON body on the wire and in a batch line."""

    @abstractmethod
    def send(self, client: Any, request: dict) -> Any:
        """One API call with build_request's arguments (the SDK retries inside it); returns the SDK-typed reply."""

    @abstractmethod
    def parse_response(self, obj: Any) -> RawReply:
        """An SDK-typed reply -> structured payload and usage; a refusal or empty answer is a ProviderOutputError."""

    def request_for(self, image: ImageRef, prompt: PromptVersion) -> dict:
        """build_request for this image under this prompt (the image read and base64-encoded)."""
        return self.build_request(encode_image(image), image.media_type, prompt.render(image.context))

    # --- the Batch API ---------------------------------------------------------------------------

    @abstractmethod
    def batch_line(self, key: str, params: dict) -> bytes:
        """One JSONL line of a batch shard: build_request's params under the custom_id `key`."""

    @abstractmethod
    def submit_batch(self, path: Path, job_id: str) -> Submitted:
        """Create a provider batch from the shard file at `path` (job_id: ours, for the provider's metadata)."""

    @abstractmethod
    def poll_batch(self, batch_id: str) -> BatchState:
        """Where the provider batch stands; "ended" once its results can be fetched."""

    @abstractmethod
    def batch_results(self, batch_id: str) -> list[BatchResult]:
        """Every result of an ended batch, succeeded or not."""

    # --- shared plumbing -------------------------------------------------------------------------

    def client(self) -> Any:
        """The SDK client, created once; a hosted API needs a key, a local base_url does not."""
        with self._lock:
            if self._client is None:
                if self.needs_key and self.base_url is None:
                    self._secret = require_key(self.provider, self.api_key)
                else:
                    self._secret = find_key(self.provider, self.api_key) or NO_KEY
                self._client = self._new_client(self._secret)
            return self._client

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one SDK call; its errors become ProviderErrors that never quote the key."""
        sdk = self.sdk()
        try:
            return fn()
        except sdk.APIError as exc:
            # `from None`: the SDK exception's text is the server's, which may quote the key.
            raise from_sdk_error(exc, sdk, provider=self.provider, model=self.model, secret=self._secret,
                                 max_retries=self.max_retries) from None

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        client = self.client()
        request = self.request_for(image, prompt)
        started = time.perf_counter()
        reply = self.parse_response(self._call(lambda: self.send(client, request)))
        latency_ms = (time.perf_counter() - started) * 1000
        output = parse_output(reply.payload, self.who, max_words=prompt.max_words)
        return build_description(image, prompt, provider=self.provider, model=self.model,
                                 output=output, reply=reply, latency_ms=latency_ms)
