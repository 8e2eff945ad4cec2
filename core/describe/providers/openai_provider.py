"""OpenAI (and OpenAI-compatible: Ollama, vLLM, LM Studio, llama.cpp) chat completions with structured output."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from core.describe.base import register
from core.describe.image_payload import SentImage, sent_size
from core.describe.providers.errors import ProviderOutputError, redact
from core.describe.providers.sdk import (
    MAX_OUTPUT_TOKENS,
    BatchLimits,
    BatchResult,
    BatchState,
    RawReply,
    SDKDescriber,
    Submitted,
    jsonl,
)
from core.describe.structured import schema_instructions
from core.models import output_json_schema

ENDPOINT = "/v1/chat/completions"  # what every batch line POSTs to
# Image tokens per (base, 512-px tile) at detail high/auto; detail low bills the base alone. gpt-4o-mini bills
# images at ~33x its text rate, so the same picture costs about what it costs on gpt-4o.
TILE_TOKENS = {"gpt-4o-mini": (2833, 5667)}
DEFAULT_TILE_TOKENS = (85, 170)  # gpt-4o, gpt-4.1 and the other tile-billed models
FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


@register("openai", "OpenAI-compatible LVLM")
@dataclass
class OpenAIDescriber(SDKDescriber):
    provider: ClassVar[str] = "openai"
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"
    # Per input file: 50,000 requests, 200 MB; batch files (and results) expire after 30 days.
    batch_limits: ClassVar[BatchLimits] = BatchLimits(50_000, 200 * 1024**2, timedelta(days=30))
    sdk_error: ClassVar[str] = "OpenAIError"
    model: str = "gpt-4o-mini"

    @staticmethod
    def sdk() -> ModuleType:
        import openai

        return openai

    def _new_client(self, api_key: str, http_client: Any) -> Any:
        return self.sdk().OpenAI(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                 max_retries=self.max_retries, http_client=http_client)

    @classmethod
    def image_tokens(cls, model: str, width: int, height: int, detail: str | None = None) -> int:
        """OpenAI's tile rule: fit in 2048x2048, shortest side to 768, then a price per 512-px tile."""
        base, per_tile = TILE_TOKENS.get(model, DEFAULT_TILE_TOKENS)
        if detail == "low":
            return base
        w, h = sent_size(width, height, 2048)
        if min(w, h) > 768:
            w, h = round(w * 768 / min(w, h)), round(h * 768 / min(w, h))
        return base + per_tile * math.ceil(w / 512) * math.ceil(h / 512)

    def build_request(self, image: SentImage, text: str, mode: str) -> dict:
        """A chat completion: the image as a data URL, then the prompt. json_schema constrains the output with a
        strict schema; json_object and prompt carry the schema in the prompt instead."""
        image_url = {"url": f"data:{image.media_type};base64,{image.data}"}
        if self.detail:
            image_url["detail"] = self.detail
        if mode != "json_schema":
            text += schema_instructions()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": image_url},
                {"type": "text", "text": text},
            ]}],
            # The hosted API wants max_completion_tokens (reasoning models refuse max_tokens); compatible servers
            # (Ollama, vLLM, LM Studio, llama.cpp) know max_tokens.
            "max_completion_tokens" if self.base_url is None else "max_tokens": MAX_OUTPUT_TOKENS,
        }
        if mode == "json_schema":
            request["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "product_description", "strict": True, "schema": output_json_schema()}}
        elif mode == "json_object":
            request["response_format"] = {"type": "json_object"}
        return request

    def send(self, client: Any, request: dict) -> Any:
        return client.chat.completions.create(**request)

    def send_streaming(self, client: Any, request: dict) -> Any:
        from openai.types.chat import ChatCompletion

        content, refusal, finish, usage = [], [], "stop", None
        for chunk in client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}):
            usage = chunk.usage or usage
            for choice in chunk.choices[:1]:
                content.append(choice.delta.content or "")
                refusal.append(choice.delta.refusal or "")
                finish = choice.finish_reason if choice.finish_reason in FINISH_REASONS else finish
        return ChatCompletion.model_validate({
            "id": "streamed", "object": "chat.completion", "created": 0, "model": self.model,
            "choices": [{"index": 0, "finish_reason": finish, "message": {
                "role": "assistant", "content": "".join(content) or None, "refusal": "".join(refusal) or None}}],
            "usage": usage.model_dump() if usage else None})

    def parse_response(self, obj: Any) -> RawReply:
        """A ChatCompletion -> the message's text and token usage (None where the server reports none)."""
        choices = getattr(obj, "choices", None)
        if not choices:
            raise ProviderOutputError(f"{self.who}: the response has no choices")
        choice = choices[0]
        if choice.message.refusal:
            raise ProviderOutputError(f"{self.who}: the model refused: {choice.message.refusal[:200]}")
        if choice.finish_reason == "length":
            raise ProviderOutputError(f"{self.who}: the reply was cut off at max_tokens ({MAX_OUTPUT_TOKENS}) before "
                                      "the description was complete; lower the prompt's max_words")
        if not choice.message.content:
            raise ProviderOutputError(f"{self.who}: empty response (finish_reason={choice.finish_reason})")
        usage = getattr(obj, "usage", None)
        return RawReply(payload=choice.message.content, input_tokens=getattr(usage, "prompt_tokens", None),
                        output_tokens=getattr(usage, "completion_tokens", None))

    def followup(self, reply: RawReply, text: str) -> list[dict]:
        said = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
        return [{"role": "assistant", "content": said}, {"role": "user", "content": text}]

    # --- Batch API: upload the shard as a file, create a batch over it, read its output/error files ----------

    def batch_line(self, key: str, params: dict) -> bytes:
        return jsonl({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": params})

    def submit_batch(self, path: Path, job_id: str) -> Submitted:
        client = self.client()
        with path.open("rb") as fh:
            file = self._call(lambda: client.files.create(file=(path.name, fh), purpose="batch"))
        batch = self._call(lambda: client.batches.create(input_file_id=file.id, endpoint=ENDPOINT,
                                                         completion_window="24h", metadata={"vitrine_job": job_id}))
        return Submitted(batch_id=batch.id, created=datetime.fromtimestamp(batch.created_at, UTC), file_id=file.id)

    def poll_batch(self, batch_id: str) -> BatchState:
        """Failed when the batch ended with no output at all; expired and cancelled batches keep what finished."""
        client = self.client()
        batch = self._call(lambda: client.batches.retrieve(batch_id))
        if batch.status in ("failed", "expired", "cancelled") and not batch.output_file_id:
            errors = "; ".join(e.message or "" for e in (batch.errors.data or [])) if batch.errors else ""
            return BatchState("failed", datetime.now(UTC), redact(f"{batch.status}: {errors}"[:500], self._secret))
        if batch.status in ("completed", "expired", "cancelled"):
            return BatchState("ended", datetime.now(UTC))
        return BatchState("in_progress")

    def batch_results(self, batch_id: str) -> list[BatchResult]:
        from openai.types.chat import ChatCompletion

        client = self.client()
        batch = self._call(lambda: client.batches.retrieve(batch_id))
        out = []
        for file_id in filter(None, (batch.output_file_id, batch.error_file_id)):
            text = self._call(partial(client.files.content, file_id)).text
            for line in filter(None, text.splitlines()):
                record = json.loads(line)
                key, response = record.get("custom_id"), record.get("response") or {}
                if response.get("status_code") == 200:
                    out.append(BatchResult(key, response=ChatCompletion.model_validate(response["body"])))
                else:
                    detail = (response.get("body") or {}).get("error", {}).get("message") or record.get("error")
                    out.append(BatchResult(key, error=redact(f"{self.who}: batch request failed (HTTP "
                                                             f"{response.get('status_code')}): {str(detail)[:200]}",
                                                             self._secret)))
        return out
