"""What the SDK-backed providers share: the structured-output ladder, lenient validation and its one re-ask, images
as servers accept them, timeouts and the per-item deadline, key handling and redaction, and the Batch API types."""

from __future__ import annotations

import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import ValidationError

from core.describe.image_payload import DEFAULT_MAX_SIDE, SentImage, check_max_side, prepare_image
from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.errors import (
    InvalidOutput,
    ProviderError,
    ProviderOutputError,
    from_sdk_error,
    plain_text,
)
from core.describe.secrets import require_key, route_key
from core.describe.structured import (
    MODES,
    check_mode,
    coerce,
    extract_json,
    reask_text,
    rejection_hint,
    rejects_mode,
)
from core.errors import ConfigError
from core.models import Attributes, Description, DescriptionOutput, ImageRef

T = TypeVar("T")
NO_KEY = "not-needed"  # local OpenAI/Anthropic-compatible servers ignore the key, but SDKs want one
MAX_OUTPUT_TOKENS = 1024  # a description is at most a few hundred tokens; this caps cost, not quality
DEFAULT_TIMEOUT = 60.0  # seconds per request; each SDK retry gets its own
DEFAULT_ITEM_DEADLINE = 180.0  # seconds per item across retries and the re-ask: a hung server costs this at most
DETAILS = ("auto", "low", "high")  # OpenAI's image detail
_EVENT_STREAM = re.compile(r"\s*(event|data):")


@dataclass(frozen=True)
class RawReply:
    """One API answer reduced to what we keep: the structured payload, token usage (None: the server sent none)
    and, for a tool call, its id (a re-ask answers that call)."""

    payload: str | dict
    input_tokens: int | None
    output_tokens: int | None
    call_id: str = ""


MAX_PAYLOAD_CHARS = 64_000  # far beyond any sane description; bigger payloads are not even parsed
OVERSIZE_FACTOR = 3  # a description over 3x the prompt's word budget is runaway output, not a description


def parse_output(payload: str | dict, who: str, max_words: int | None = None) -> DescriptionOutput:
    """Read the model's output leniently (fences, prose, loose shapes), then validate it strictly. What the model
    could fix is an InvalidOutput; runaway output is a plain ProviderOutputError."""
    size = len(payload) if isinstance(payload, str) else len(json.dumps(payload))
    if size > MAX_PAYLOAD_CHARS:
        raise ProviderOutputError(f"{who}: oversize output ({size:,} characters; limit {MAX_PAYLOAD_CHARS:,})")
    try:
        found = extract_json(payload) if isinstance(payload, str) else payload
    except InvalidOutput as exc:
        raise InvalidOutput(f"{who}: output is not valid JSON: {exc}", problem=exc.problem) from None
    try:
        output = DescriptionOutput.model_validate(coerce(found))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "output"
        problem = f"{where}: {err['msg']}"
        raise InvalidOutput(f"{who}: output does not match the description schema: {problem}",
                            problem=f"it does not match the schema ({problem})") from None
    if not output.description.strip():
        raise InvalidOutput(f"{who}: output has an empty description", problem="the description is empty")
    words = len(output.description.split())
    if max_words is not None and words > OVERSIZE_FACTOR * max_words:
        raise ProviderOutputError(f"{who}: oversize output ({words} words; the prompt allows {max_words})")
    return output


def keep_facets(attributes: Attributes, facets: list[str]) -> Attributes:
    """Empty the facets the prompt did not ask for, so prompt versions compare like for like."""
    return Attributes(**{f: attributes.facet(f) for f in facets})


def build_description(image: ImageRef, prompt: PromptVersion, *, provider: str, model: str,
                      output: DescriptionOutput, reply: RawReply, latency_ms: float) -> Description:
    tokens_in, tokens_out = reply.input_tokens or 0, reply.output_tokens or 0
    return Description(
        image_sha256=image.sha256, prompt_name=prompt.name, prompt_version=prompt.version,
        prompt_hash=prompt.hash, provider=provider, model=model,
        text=output.description.strip(), attributes=keep_facets(output.attributes, prompt.facets),
        input_tokens=tokens_in, output_tokens=tokens_out, latency_ms=latency_ms,
        cost_usd=cost_usd(provider, model, tokens_in, tokens_out),
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


class DeadlinePassed(Exception):
    """Raised before an HTTP attempt once the item's deadline has passed (see SDKDescriber._within_deadline)."""


@cache
def _deadline_error(sdk_base: type[Exception]) -> type[Exception]:
    """DeadlinePassed as the SDK's own base error: both SDKs re-raise those from their retry loop, unretried."""
    return type("DeadlinePassed", (DeadlinePassed, sdk_base), {})


def _seconds(name: str, value: object) -> float:
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"{name} must be a positive number of seconds (got {value!r})")
    return seconds


def reply_text_problem(text: str) -> str:
    """Why a 200 whose body is text, not the API's JSON, is unusable, and what to check."""
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return ("the server answered with an HTML page, not an API reply; check the base URL (an OpenAI-compatible "
                "API usually ends in /v1)")
    return f"the server answered with plain text, not an API reply ({plain_text(text, 80)!r}); check the base URL"


@dataclass
class SDKDescriber(ABC):
    """Template for providers backed by an official SDK: subclasses build the request for a structured-output mode
    and parse the reply; the synchronous describe() and the Batch API shards (core.runs.batch) compose those two."""

    provider: ClassVar[str]
    needs_key: ClassVar[bool] = True  # the hosted API does; a local base_url gets NO_KEY
    key_env_var: ClassVar[str | None] = None
    supports_batch: ClassVar[bool] = True
    is_lvlm: ClassVar[bool] = True
    batch_limits: ClassVar[BatchLimits]
    modes: ClassVar[tuple[str, ...]] = MODES  # this provider's structured-output ladder, strongest first
    sdk_error: ClassVar[str]  # the SDK's base exception class name
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = 4  # the SDK's own retry budget (429/5xx/connection/timeout), with its backoff
    item_deadline: float = DEFAULT_ITEM_DEADLINE
    structured_mode: str | None = None  # None: probe the ladder on the first call; then the rung that worked
    image_max_side: int = DEFAULT_MAX_SIDE
    detail: str | None = None  # OpenAI's image detail; None leaves the server's default (auto)
    _client: Any = field(default=None, init=False, repr=False, compare=False)
    _secret: str | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _streams: bool = field(default=False, init=False, repr=False, compare=False)  # the server only streams
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Options may arrive as strings (stored connections, CLI flags): check and convert them once, here."""
        self.timeout = _seconds("timeout", self.timeout)
        self.item_deadline = _seconds("item_deadline", self.item_deadline)
        self.structured_mode = check_mode(self.structured_mode, self.modes)
        self.image_max_side = check_max_side(self.image_max_side)
        if self.detail is not None and self.detail not in DETAILS:
            raise ConfigError(f"detail must be one of {', '.join(DETAILS)}, not {self.detail!r}")

    @property
    def who(self) -> str:
        return f"{self.provider}:{self.model}"

    @staticmethod
    @abstractmethod
    def sdk() -> ModuleType:
        """The SDK module, imported on first use (importing it at startup costs about a second)."""

    @abstractmethod
    def _new_client(self, api_key: str, http_client: Any) -> Any: ...

    @classmethod
    @abstractmethod
    def image_tokens(cls, model: str, width: int, height: int, detail: str | None = None) -> int:
        """Input tokens the API bills for one image of this size (estimates before a run, and replies without usage)."""

    # --- one request -------------------------------------------------------------------------------

    @abstractmethod
    def build_request(self, image: SentImage, text: str, mode: str) -> dict:
        """The SDK call's keyword arguments for one structured-output mode; also the JSON body on the wire and in a
        batch line."""

    @abstractmethod
    def send(self, client: Any, request: dict) -> Any:
        """One API call with build_request's arguments (the SDK retries inside it); the SDK-typed reply, or the
        body's text when the server did not answer JSON."""

    @abstractmethod
    def send_streaming(self, client: Any, request: dict) -> Any:
        """The same call streamed, accumulated into the SDK type send() returns (for servers that only stream)."""

    @abstractmethod
    def parse_response(self, obj: Any) -> RawReply:
        """An SDK-typed reply -> payload and usage; a refusal, a cut-off or an empty answer is a ProviderOutputError."""

    @abstractmethod
    def followup(self, reply: RawReply, text: str) -> list[dict]:
        """The messages that continue a conversation after `reply` with the user's `text` (the re-ask)."""

    def request_for(self, image: ImageRef, prompt: PromptVersion) -> dict:
        """build_request for this image under this prompt, in the remembered mode (a batch goes to the hosted API,
        which accepts the strongest rung)."""
        return self.build_request(prepare_image(image.path, self.image_max_side), prompt.render(image.context),
                                  self.structured_mode or self.modes[0])

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
                else:  # the provider's own key only goes to its own host, even when built without a Lab
                    self._secret = route_key(self.provider, self.base_url, explicit=self.api_key).key or NO_KEY
                http = self.sdk().DefaultHttpxClient(event_hooks={"request": [self._within_deadline]})
                self._client = self._new_client(self._secret, http)
            return self._client

    def _within_deadline(self, request: Any) -> None:
        """httpx hook before every attempt, retries included: cap its timeouts at what is left of the item's
        deadline, and once nothing is left stop the SDK's retry loop."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:  # Batch API calls have no item deadline
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise _deadline_error(getattr(self.sdk(), self.sdk_error))()
        timeouts = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {k: left if v is None else min(v, left) for k, v in timeouts.items()}

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one SDK call; its errors become ProviderErrors that never quote the key."""
        sdk = self.sdk()
        try:
            return fn()
        except DeadlinePassed:
            raise ProviderError(f"{self.who}: no usable answer within the item deadline of {self.item_deadline:g} s; "
                                "raise the connection's item_deadline, or check that the server is not stuck") from None
        except sdk.APIError as exc:
            # `from None`: the SDK exception's text is the server's, which may quote the key.
            raise from_sdk_error(exc, sdk, provider=self.provider, model=self.model, secret=self._secret,
                                 max_retries=self.max_retries, timeout=self.timeout) from None
        except json.JSONDecodeError:  # a JSON content type over a body that is not JSON
            raise ProviderOutputError(f"{self.who}: the server's reply claims to be JSON but is not; check the "
                                      "base URL") from None

    def describe(self, image: ImageRef, prompt: PromptVersion) -> Description:
        client = self.client()
        sent = prepare_image(image.path, self.image_max_side)
        text = prompt.render(image.context)
        started = time.perf_counter()
        try:
            output, reply = self._in_mode(client, sent, text, prompt.max_words)
        except ProviderError as exc:
            raise exc.redacted(self._secret) from None
        return build_description(image, prompt, provider=self.provider, model=self.model, output=output,
                                 reply=reply, latency_ms=(time.perf_counter() - started) * 1000)

    def _in_mode(self, client: Any, sent: SentImage, text: str,
                 max_words: int) -> tuple[DescriptionOutput, RawReply]:
        """Describe in the remembered mode; without one, walk the ladder (one item at a time, so it is probed once)
        and remember the first rung that gives a description."""
        if self.structured_mode is None:
            with self._probe_lock, self._deadline():  # the item's deadline starts once it may send
                if self.structured_mode is None:
                    for rung in self.modes:
                        try:
                            result = self._ask(client, sent, text, max_words, rung)
                        except ProviderError as exc:
                            if rung != self.modes[-1] and rejects_mode(exc):
                                continue
                            raise self._hinted(exc, rung) from None
                        self.structured_mode = rung
                        return result
        mode = self.structured_mode
        assert mode is not None
        with self._deadline():
            try:
                return self._ask(client, sent, text, max_words, mode)
            except ProviderError as exc:
                raise self._hinted(exc, mode) from None

    @contextmanager
    def _deadline(self) -> Iterator[None]:
        """This thread's item deadline, read by _within_deadline before every HTTP attempt."""
        self._local.deadline = time.monotonic() + self.item_deadline
        try:
            yield
        finally:
            self._local.deadline = None

    def _hinted(self, exc: ProviderError, mode: str) -> ProviderError:
        """A rejection of the structured-output mode says which mode and what to set instead."""
        if not rejects_mode(exc):
            return exc
        return ProviderError(f"{exc}; {rejection_hint(mode, self.modes)}", status=exc.status, detail=exc.detail)

    def _ask(self, client: Any, sent: SentImage, text: str, max_words: int,
             mode: str) -> tuple[DescriptionOutput, RawReply]:
        """One request in `mode`; if the output is unusable in a way the model can fix, one re-ask quoting why.
        Both calls' tokens are counted."""
        request = self.build_request(sent, text, mode)
        reply = self._exchange(client, request, sent, text)
        try:
            return parse_output(reply.payload, self.who, max_words), reply
        except InvalidOutput as exc:
            problem = exc.problem
        retry = request | {"messages": [*request["messages"], *self.followup(reply, reask_text(problem))]}
        second = self._exchange(client, retry, sent, text)
        total = RawReply(second.payload, (reply.input_tokens or 0) + (second.input_tokens or 0),
                         (reply.output_tokens or 0) + (second.output_tokens or 0), second.call_id)
        try:
            return parse_output(second.payload, self.who, max_words), total
        except InvalidOutput as again:
            raise InvalidOutput(f"{again} (also after one re-ask)", problem=again.problem) from None

    def _exchange(self, client: Any, request: dict, sent: SentImage, text: str) -> RawReply:
        """One call and its parsed reply: streamed once the server has shown it only streams; usage estimated from
        what was sent when the server reports none."""
        if not self._streams:
            obj = self._call(lambda: self.send(client, request))
            if isinstance(obj, str):
                if not _EVENT_STREAM.match(obj):
                    raise ProviderOutputError(f"{self.who}: {reply_text_problem(obj)}")
                self._streams = True
        if self._streams:
            obj = self._call(lambda: self.send_streaming(client, request))
        reply = self.parse_response(obj)
        if reply.input_tokens is None:  # about 4 characters a token, plus the image as this API bills it
            reply = replace(reply, input_tokens=self.image_tokens(self.model, sent.width, sent.height, self.detail)
                            + len(text) // 4)
        if reply.output_tokens is None:
            said = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
            reply = replace(reply, output_tokens=max(1, len(said) // 4))
        return reply
