"""Provider failures phrased for the user; messages never echo an API key, a piece of one, or a look-alike."""

from __future__ import annotations

import copy
import html
import re
from types import ModuleType

from core.describe.secrets import ENV_VARS
from core.errors import VitrineError

_MAX_DETAIL = 200
MIN_FRAGMENT = 8  # a run of this many characters of the key is treated as the key (servers echo keys trimmed)
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")  # OpenAI (sk-..., sk-proj-...) and Anthropic (sk-ant-...) keys
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-]{32,}")  # other vendors' keys, bearer tokens, long hex
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)


class ProviderError(VitrineError):
    """An LVLM API call failed after the SDK's own retries (network, HTTP status, auth)."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status  # the HTTP status when the server answered with an error
        self.detail = detail  # the server's own words, which decide whether a lower structured-output rung may help

    def redacted(self, secret: str | None) -> ProviderError:
        """The same error with the key and key-shaped text masked (the server's words may quote them)."""
        clean = copy.copy(self)
        clean.args = (redact(str(self), secret),)
        clean.detail = redact(self.detail, secret)
        return clean


class ProviderOutputError(ProviderError):
    """The API answered, but not with a usable description (refusal, cut-off, not an API reply)."""


class InvalidOutput(ProviderOutputError):
    """The reply is not the description JSON; the model gets one chance to correct it, told `problem`."""

    def __init__(self, message: str, *, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem


def redact(text: str, secret: str | None) -> str:
    """Mask the key, any run of >= MIN_FRAGMENT of its characters, and anything shaped like a key."""
    if secret and len(secret) >= MIN_FRAGMENT:
        grams = {secret[i:i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)}
        hidden = [False] * len(text)
        for i in range(len(text) - MIN_FRAGMENT + 1):
            if text[i:i + MIN_FRAGMENT] in grams:
                hidden[i:i + MIN_FRAGMENT] = [True] * MIN_FRAGMENT
        text = "".join("***" if h else c for i, (c, h) in enumerate(zip(text, hidden, strict=True))
                       if not (h and i and hidden[i - 1]))
    elif secret:
        text = text.replace(secret, "***")
    return _LONG_TOKEN.sub(lambda m: "***" if _key_like(m[0]) else m[0], _SK_KEY.sub("***", text))


def _key_like(token: str) -> bool:
    """Letters and digits mixed, as in random tokens; model names (Qwen2-VL-7B-Instruct-GGUF-...) have many dashes."""
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and token.count("-") <= 2


def from_sdk_error(exc: Exception, sdk: ModuleType, *, provider: str, model: str, secret: str | None,
                   max_retries: int, timeout: float | None = None) -> ProviderError:
    """Translate an openai/anthropic SDK exception (both SDKs share these class names)."""
    status, detail = None, ""
    if isinstance(exc, sdk.APITimeoutError):
        within = f" within the {timeout:g} s request timeout" if timeout else ""
        msg = (f"no answer{within}{_after(max_retries)}; raise the connection's timeout, lower the concurrency, "
               "or check that the server is not stuck")
    elif isinstance(exc, sdk.APIConnectionError):
        msg = f"could not connect{_after(max_retries)}; check that the server runs and the base URL (--base-url)"
    elif isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
        # Deliberately no server detail: real APIs echo (part of) the rejected key there.
        msg = f"the API rejected the key (HTTP {exc.status_code}); check {ENV_VARS.get(provider, 'the API key')}"
    elif isinstance(exc, sdk.RateLimitError):
        msg = f"rate limited (HTTP 429){_after(max_retries)}; lower concurrency or wait"
    elif isinstance(exc, sdk.APIStatusError):
        status, detail = exc.status_code, _api_message(exc.body)
        msg = f"HTTP {status}: {detail or 'no error message'}"
    else:
        msg = f"unexpected {type(exc).__name__}"
    return ProviderError(f"{provider}:{model}: {msg}", status=status, detail=detail).redacted(secret)


def _after(max_retries: int) -> str:
    return f" after up to {max_retries} retries" if max_retries else ""


def _api_message(body: object) -> str:
    """The server's error text from any body the SDKs hand over: OpenAI's inner error object, Anthropic's whole
    body, LM Studio's {"error": "..."}, FastAPI's {"detail": ...}, or a plain-text or HTML page."""
    if isinstance(body, str):
        return plain_text(body)
    if not isinstance(body, dict):
        return ""
    error = body.get("error", body)
    if isinstance(error, str):
        return plain_text(error)
    if not isinstance(error, dict):
        return ""
    message = error.get("message") or error.get("detail")
    if isinstance(message, list):  # FastAPI validation errors: [{"loc": [...], "msg": "..."}]
        message = "; ".join(str(m.get("msg", m)) if isinstance(m, dict) else str(m) for m in message)
    return plain_text(str(message)) if message else ""


def plain_text(text: str, limit: int = _MAX_DETAIL) -> str:
    """Server-supplied text reduced to one short plain line: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())[:limit]
