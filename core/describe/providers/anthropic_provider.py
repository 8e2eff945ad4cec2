"""Anthropic Claude Messages API; structured output via a forced tool call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from core.describe.base import register
from core.describe.providers.errors import ProviderOutputError
from core.describe.providers.sdk import BatchLimits, BatchResult, BatchState, RawReply, SDKDescriber, Submitted, jsonl
from core.models import output_json_schema

TOOL_NAME = "record_description"
MAX_OUTPUT_TOKENS = 1024  # a description is at most a few hundred tokens; this caps cost, not quality


@register("anthropic", "Anthropic Claude")
@dataclass
class AnthropicDescriber(SDKDescriber):
    provider: ClassVar[str] = "anthropic"
    key_env_var: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    # Message Batches: 100,000 requests or 256 MB per create call; results are deleted 29 days after creation.
    batch_limits: ClassVar[BatchLimits] = BatchLimits(100_000, 256 * 1024**2, timedelta(days=29))
    model: str = "claude-haiku-4-5"

    @staticmethod
    def sdk() -> ModuleType:
        import anthropic

        return anthropic

    def _new_client(self, api_key: str) -> Any:
        return self.sdk().Anthropic(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                    max_retries=self.max_retries)

    def build_request(self, image_b64: str, media_type: str, text: str) -> dict:
        """A message: the image as a base64 block, then the prompt; the output schema is a tool the model must call."""
        return {
            "model": self.model,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": image_b64}},
                {"type": "text", "text": text},
            ]}],
            "tools": [{"name": TOOL_NAME, "description": "Record the product description and its attributes.",
                       "input_schema": output_json_schema()}],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        }

    def send(self, client: Any, request: dict) -> Any:
        return client.messages.create(**request)

    def parse_response(self, obj: Any) -> RawReply:
        """A Message -> the forced tool call's input and token usage."""
        if obj.stop_reason == "refusal":
            said = " ".join(b.text for b in obj.content if b.type == "text")
            raise ProviderOutputError(f"{self.who}: the model refused: {said[:200] or 'no reason given'}")
        tool_input = next((b.input for b in obj.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        if tool_input is None:
            raise ProviderOutputError(
                f"{self.who}: no {TOOL_NAME} tool call in the response (stop_reason={obj.stop_reason})"
            )
        return RawReply(payload=tool_input, input_tokens=obj.usage.input_tokens,
                        output_tokens=obj.usage.output_tokens)

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
                                       error=f"{self.who}: batch request {result.type}: {detail[:200]}"))
        return out
