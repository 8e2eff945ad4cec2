"""Anthropic Claude Messages API; structured output via a forced tool call."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from core.describe.base import register
from core.describe.providers.errors import ProviderOutputError
from core.describe.providers.sdk import RawReply, SDKDescriber
from core.models import output_json_schema

TOOL_NAME = "record_description"
MAX_OUTPUT_TOKENS = 1024  # a description is at most a few hundred tokens; this caps cost, not quality


@register("anthropic", "Anthropic Claude")
@dataclass
class AnthropicDescriber(SDKDescriber):
    provider = "anthropic"
    model: str = "claude-haiku-4-5"

    @staticmethod
    def sdk() -> ModuleType:
        import anthropic

        return anthropic

    def _new_client(self, api_key: str) -> Any:
        return self.sdk().Anthropic(api_key=api_key, base_url=self.base_url, timeout=self.timeout,
                                    max_retries=self.max_retries)

    def _request(self, client: Any, image_b64: str, media_type: str, text: str) -> RawReply:
        message = client.messages.create(
            model=self.model,
            max_tokens=MAX_OUTPUT_TOKENS,
            messages=[{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": image_b64}},
                {"type": "text", "text": text},
            ]}],
            tools=[{"name": TOOL_NAME, "description": "Record the product description and its attributes.",
                    "input_schema": output_json_schema()}],
            tool_choice={"type": "tool", "name": TOOL_NAME},
        )
        if message.stop_reason == "refusal":
            said = " ".join(b.text for b in message.content if b.type == "text")
            raise ProviderOutputError(f"{self.who}: the model refused: {said[:200] or 'no reason given'}")
        tool_input = next((b.input for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        if tool_input is None:
            raise ProviderOutputError(
                f"{self.who}: no {TOOL_NAME} tool call in the response (stop_reason={message.stop_reason})"
            )
        return RawReply(payload=tool_input, input_tokens=message.usage.input_tokens,
                        output_tokens=message.usage.output_tokens)
