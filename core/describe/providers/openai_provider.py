"""OpenAI (and OpenAI-compatible: Ollama, vLLM, LM Studio) chat completions with JSON-schema output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from core.describe.base import register
from core.describe.providers.errors import ProviderOutputError
from core.describe.providers.sdk import BatchLimits, BatchResult, BatchState, RawReply, SDKDescriber, Submitted, jsonl
from core.models import output_json_schema

ENDPOINT = "/v1/chat/completions"  # what every batch line POSTs to


@register("openai", "OpenAI-compatible LVLM")
@dataclass
class OpenAIDescriber(SDKDescriber):
    provider: ClassVar[str] = "openai"
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"
    # Per input file: 50,000 requests, 200 MB; batch files (and results) expire after 30 days.
    batch_limits: ClassVar[BatchLimits] = BatchLimits(50_000, 200 * 1024**2, timedelta(days=30))
    model: str = "gpt-4o-mini"

    @staticmethod
    def sdk() -> ModuleType:
        import openai

        return openai

    def _new_client(self, api_key: str) -> Any:
        return self.sdk().OpenAI(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                 max_retries=self.max_retries)

    def build_request(self, image_b64: str, media_type: str, text: str) -> dict:
        """A chat completion: the image as a data URL, then the prompt; output constrained by a strict JSON schema."""
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{image_b64}"}},
                {"type": "text", "text": text},
            ]}],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "product_description", "strict": True, "schema": output_json_schema(),
            }},
        }

    def send(self, client: Any, request: dict) -> Any:
        return client.chat.completions.create(**request)

    def parse_response(self, obj: Any) -> RawReply:
        """A ChatCompletion -> the message's JSON text and token usage."""
        if not obj.choices:
            raise ProviderOutputError(f"{self.who}: the response has no choices")
        choice = obj.choices[0]
        if choice.message.refusal:
            raise ProviderOutputError(f"{self.who}: the model refused: {choice.message.refusal[:200]}")
        if not choice.message.content:
            raise ProviderOutputError(f"{self.who}: empty response (finish_reason={choice.finish_reason})")
        usage = obj.usage
        return RawReply(payload=choice.message.content,
                        input_tokens=usage.prompt_tokens if usage else 0,
                        output_tokens=usage.completion_tokens if usage else 0)

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
            return BatchState("failed", datetime.now(UTC), f"{batch.status}: {errors}"[:500])
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
                    out.append(BatchResult(key, error=f"{self.who}: batch request failed "
                                                      f"(HTTP {response.get('status_code')}): {str(detail)[:200]}"))
        return out
