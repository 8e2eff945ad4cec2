"""Provider failures phrased for the user; messages never echo an API key."""

from __future__ import annotations

from types import ModuleType

from core.describe.secrets import ENV_VARS
from core.errors import VitrineError

_MAX_DETAIL = 200


class ProviderError(VitrineError):
    """An LVLM API call failed after the SDK's own retries (network, HTTP status, auth)."""


class ProviderOutputError(ProviderError):
    """The API answered, but not with a usable description (refusal, bad JSON, wrong schema)."""


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def from_sdk_error(exc: Exception, sdk: ModuleType, *, provider: str, model: str, secret: str | None,
                   max_retries: int) -> ProviderError:
    """Translate an openai/anthropic SDK exception (both SDKs share these class names)."""
    if isinstance(exc, sdk.APITimeoutError):
        msg = f"request timed out{_after(max_retries)}; allow a longer timeout or retry later"
    elif isinstance(exc, sdk.APIConnectionError):
        msg = f"could not connect{_after(max_retries)}; check the network or --base-url"
    elif isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
        # Deliberately no server detail: real APIs echo (part of) the rejected key there.
        msg = f"the API rejected the key (HTTP {exc.status_code}); check {ENV_VARS.get(provider, 'the API key')}"
    elif isinstance(exc, sdk.RateLimitError):
        msg = f"rate limited (HTTP 429){_after(max_retries)}; lower concurrency or wait"
    elif isinstance(exc, sdk.APIStatusError):
        msg = f"HTTP {exc.status_code}: {_api_message(exc.body) or 'no error message'}"
    else:
        msg = f"unexpected {type(exc).__name__}"
    return ProviderError(redact(f"{provider}:{model}: {msg}", secret))


def _after(max_retries: int) -> str:
    return f" after up to {max_retries} retries" if max_retries else ""


def _api_message(body: object) -> str:
    """error.message from either API's error body (OpenAI passes the inner object, Anthropic the whole)."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error", body)
    message = error.get("message") if isinstance(error, dict) else None
    return str(message)[:_MAX_DETAIL] if message else ""
