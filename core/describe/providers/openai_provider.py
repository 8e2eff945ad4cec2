"""OpenAI (and OpenAI-compatible: Ollama, vLLM, LM Studio) chat completions with JSON-schema output."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from core.describe.base import register
from core.describe.providers.errors import ProviderOutputError
from core.describe.providers.sdk import RawReply, SDKDescriber
from core.models import output_json_schema


@register("openai", "OpenAI-compatible LVLM")
@dataclass
class OpenAIDescriber(SDKDescriber):
    provider = "openai"
    model: str = "gpt-4o-mini"

    @staticmethod
    def sdk() -> ModuleType:
        import openai

        return openai

    def _new_client(self, api_key: str) -> Any:
        return self.sdk().OpenAI(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                 max_retries=self.max_retries)

    def _request(self, client: Any, image_b64: str, media_type: str, text: str) -> RawReply:
        completion = client.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{image_b64}"}},
                {"type": "text", "text": text},
            ]}],
            response_format={"type": "json_schema", "json_schema": {
                "name": "product_description", "strict": True, "schema": output_json_schema(),
            }},
        )
        if not completion.choices:
            raise ProviderOutputError(f"{self.who}: the response has no choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise ProviderOutputError(f"{self.who}: the model refused: {choice.message.refusal[:200]}")
        if not choice.message.content:
            raise ProviderOutputError(f"{self.who}: empty response (finish_reason={choice.finish_reason})")
        usage = completion.usage
        return RawReply(payload=choice.message.content,
                        input_tokens=usage.prompt_tokens if usage else 0,
                        output_tokens=usage.completion_tokens if usage else 0)
