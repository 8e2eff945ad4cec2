"""Anthropic Claude Messages API (and compatible servers); structured output via a forced tool call."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from core.describe.base import register
from core.describe.image_payload import DEFAULT_MAX_SIDE, SentImage, sent_size
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

TOOL_NAME = "record_description"
PIXELS_PER_TOKEN = 750  # Anthropic bills an image at about (width x height) / 750 tokens...
MAX_IMAGE_TOKENS = 1600  # ...after resizing it to about 1.15 megapixels


@register("anthropic", "Anthropic Claude")
@dataclass
class AnthropicDescriber(SDKDescriber):
    provider: ClassVar[str] = "anthropic"
    key_env_var: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    # Message Batches: 100,000 requests or 256 MB per create call; results are deleted 29 days after creation.
    batch_limits: ClassVar[BatchLimits] = BatchLimits(100_000, 256 * 1024**2, timedelta(days=29))
    modes: ClassVar[tuple[str, ...]] = ("json_schema", "prompt")  # json_schema: the schema as a forced tool
    sdk_error: ClassVar[str] = "AnthropicError"
    model: str = "claude-haiku-4-5"

    @staticmethod
    def sdk() -> ModuleType:
        import anthropic

        return anthropic

    def _new_client(self, api_key: str, http_client: Any) -> Any:
        return self.sdk().Anthropic(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                    max_retries=self.max_retries, http_client=http_client)

    @classmethod
    def image_tokens(cls, model: str, width: int, height: int, detail: str | None = None) -> int:
        w, h = sent_size(width, height, DEFAULT_MAX_SIDE)
        return min(MAX_IMAGE_TOKENS, math.ceil(w * h / PIXELS_PER_TOKEN))

    def build_request(self, image: SentImage, text: str, mode: str) -> dict:
        """A message: the image as a base64 block, then the prompt. json_schema makes the output schema a tool the
        model must call; prompt carries the schema in the prompt instead."""
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": image.media_type, "data": image.data}},
                {"type": "text", "text": text if mode == "json_schema" else text + schema_instructions()},
            ]}],
        }
        if mode == "json_schema":
            request["tools"] = [{"name": TOOL_NAME, "description": "Record the product description and its attributes.",
                                 "input_schema": output_json_schema()}]
            request["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        return request

    def send(self, client: Any, request: dict) -> Any:
        return client.messages.create(**request)

    def send_streaming(self, client: Any, request: dict) -> Any:
        with client.messages.stream(**request) as stream:
            return stream.get_final_message()

    def parse_response(self, obj: Any) -> RawReply:
        """A Message -> the forced tool call's input (or, from a server that ignored the tool, the text) and usage."""
        stop, content = getattr(obj, "stop_reason", None), getattr(obj, "content", None) or []
        if stop == "refusal":
            said = " ".join(b.text for b in content if b.type == "text")
            raise ProviderOutputError(f"{self.who}: the model refused: {said[:200] or 'no reason given'}")
        if stop == "max_tokens":  # a tool input cut off mid-way still parses, as a description missing its end
            raise ProviderOutputError(f"{self.who}: the reply was cut off at max_tokens ({MAX_OUTPUT_TOKENS}) before "
                                      "the description was complete; lower the prompt's max_words")
        usage = getattr(obj, "usage", None)
        tokens_in, tokens_out = getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None)
        call = next((b for b in content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        if call is not None:
            return RawReply(call.input, tokens_in, tokens_out, call_id=call.id)
        said = "".join(b.text for b in content if b.type == "text")
        if not said.strip():
            raise ProviderOutputError(f"{self.who}: no {TOOL_NAME} tool call and no text in the response "
                                      f"(stop_reason={stop})")
        return RawReply(said, tokens_in, tokens_out)

    def followup(self, reply: RawReply, text: str) -> list[dict]:
        """After a tool call, the re-ask is its (failed) tool result; after text, a user turn."""
        if reply.call_id:
            return [{"role": "assistant", "content": [{"type": "tool_use", "id": reply.call_id, "name": TOOL_NAME,
                                                       "input": reply.payload}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": reply.call_id,
                                                  "is_error": True, "content": text}]}]
        said = reply.payload if isinstance(reply.payload, str) else json.dumps(reply.payload)
        return [{"role": "assistant", "content": said}, {"role": "user", "content": text}]

    # --- Message Batches: the shard's lines are the create call's requests ---------------------------------

    def batch_line(self, key: str, params: dict) -> bytes:
        return jsonl({"custom_id": key, "params": params})

    def submit_batch(self, path: Path, job_id: str) -> Submitted:
        client = self.client()
        requests = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        batch = self._call(lambda: client.messages.batches.create(requests=requests))
        return Submitted(batch_id=batch.id, created=batch.created_at)

    def poll_batch(self, batch_id: str) -> BatchState:
        client = self.client()
        batch = self._call(lambda: client.messages.batches.retrieve(batch_id))
        if batch.processing_status == "ended":
            return BatchState("ended", batch.ended_at or datetime.now(UTC))
        return BatchState("in_progress")

    def batch_results(self, batch_id: str) -> list[BatchResult]:
        client = self.client()
        out = []
        for item in self._call(lambda: list(client.messages.batches.results(batch_id))):
            result = item.result
            if result.type == "succeeded":
                out.append(BatchResult(item.custom_id, response=result.message))
            else:
                detail = getattr(getattr(getattr(result, "error", None), "error", None), "message", "") or ""
                out.append(BatchResult(item.custom_id,
                                       error=redact(f"{self.who}: batch request {result.type}: {detail[:200]}",
                                                    self._secret)))
        return out
