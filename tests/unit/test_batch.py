"""Batch API plumbing without a network: shard limits, line formats, reply parsing, expiry, cost estimate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion
from PIL import Image

from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.openai_provider import OpenAIDescriber
from core.errors import VitrineError
from core.lab import Lab
from core.models import ImageRef
from core.runs import batch

PROMPT = PromptVersion(name="appearance", version=1, variables=["category"], facets=["colour", "pattern"],
                       template="Describe the colour and pattern of this {category} in {max_words} words.")
OUTPUT = {"description": "A red scarf.", "attributes": {"style": [], "material": [], "colour": ["red"],
                                                        "pattern": ["solid"], "usage_context": [], "occasion": []}}


@pytest.fixture
def image(tmp_path: Path) -> ImageRef:
    path = tmp_path / "red.png"
    Image.new("RGB", (8, 8), (200, 20, 20)).save(path)
    return ImageRef("a" * 64, path, {"category": "scarf"})


def lines(sizes: list[int]) -> list[tuple[str, bytes]]:
    return [(f"k{i}", b"x" * (size - 1) + b"\n") for i, size in enumerate(sizes)]


def test_shards_respect_the_request_limit() -> None:
    limits = batch.BatchLimits(max_requests=3, max_bytes=10**6, results_ttl=timedelta(days=1))
    shards = list(batch.shard_lines(iter(lines([10] * 7)), limits))
    assert [len(s) for s in shards] == [3, 3, 1]
    assert [k for s in shards for k, _ in s] == [f"k{i}" for i in range(7)]  # nothing lost or repeated


def test_shards_respect_the_byte_limit_including_the_envelope() -> None:
    limits = batch.BatchLimits(max_requests=100, max_bytes=batch._ENVELOPE_BYTES + 250, results_ttl=timedelta(1))
    shards = list(batch.shard_lines(iter(lines([100, 100, 100, 50, 200])), limits))
    assert [len(s) for s in shards] == [2, 2, 1]
    assert all(sum(len(line) for _, line in s) + batch._ENVELOPE_BYTES <= limits.max_bytes for s in shards)


def test_a_request_over_the_byte_limit_is_refused_with_a_reason() -> None:
    limits = batch.BatchLimits(max_requests=100, max_bytes=200, results_ttl=timedelta(1))
    with pytest.raises(VitrineError, match="shrink the image"):
        list(batch.shard_lines(iter(lines([500])), limits))


def test_the_real_provider_limits() -> None:
    openai_limits, anthropic_limits = OpenAIDescriber.batch_limits, AnthropicDescriber.batch_limits
    assert (openai_limits.max_requests, openai_limits.max_bytes) == (50_000, 200 * 1024**2)
    assert (anthropic_limits.max_requests, anthropic_limits.max_bytes) == (100_000, 256 * 1024**2)
    assert anthropic_limits.results_ttl == timedelta(days=29)


def test_openai_lines_carry_the_synchronous_request_body(image: ImageRef) -> None:
    describer = OpenAIDescriber(model="gpt-4o-mini", base_url="http://127.0.0.1:9", api_key="k")
    params = describer.request_for(image, PROMPT)  # built without any network call
    record = json.loads(describer.batch_line("key1", params))
    assert record["custom_id"] == "key1" and record["method"] == "POST" and record["url"] == "/v1/chat/completions"
    body = record["body"]
    assert body["model"] == "gpt-4o-mini" and body["response_format"]["type"] == "json_schema"
    content = body["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[1]["text"] == PROMPT.render(image.context)


def test_anthropic_lines_carry_the_forced_tool_call(image: ImageRef) -> None:
    describer = AnthropicDescriber(base_url="http://127.0.0.1:9", api_key="k")
    record = json.loads(describer.batch_line("key2", describer.request_for(image, PROMPT)))
    assert set(record) == {"custom_id", "params"}
    params = record["params"]
    assert params["tool_choice"]["type"] == "tool" and params["messages"][0]["content"][0]["type"] == "image"


def chat_completion(content: str | None, refusal: str | None = None) -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content,
                                                                      "refusal": refusal}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}})


def test_a_batch_reply_is_parsed_by_the_provider_and_billed_at_the_batch_price() -> None:
    describer = OpenAIDescriber(model="gpt-4o-mini", base_url="http://x", api_key="k")
    desc = batch.parse_reply(describer, "b" * 64, PROMPT, chat_completion(json.dumps(OUTPUT)))
    assert desc.ok and desc.attributes.colour == ["red"] and desc.key  # same key as a synchronous run
    assert desc.cost_usd == pytest.approx(cost_usd("openai", "gpt-4o-mini", 1000, 100) / 2)


@pytest.mark.parametrize(("reply", "error"), [
    (chat_completion(None, refusal="no"), "refused"),
    (chat_completion("{not json"), "not valid JSON"),
    (chat_completion(json.dumps({"caption": "x"})), "description schema"),
])
def test_unusable_batch_replies_become_error_rows(reply: ChatCompletion, error: str) -> None:
    describer = OpenAIDescriber(model="gpt-4o-mini", base_url="http://x", api_key="k")
    desc = batch.parse_reply(describer, "b" * 64, PROMPT, reply)
    assert not desc.ok and error in desc.error and desc.cost_usd == 0


def test_anthropic_replies_are_parsed_from_the_tool_call() -> None:
    describer = AnthropicDescriber(base_url="http://x", api_key="k")
    message = Message.model_validate({
        "id": "m", "type": "message", "role": "assistant", "model": describer.model, "stop_reason": "tool_use",
        "stop_sequence": None, "usage": {"input_tokens": 500, "output_tokens": 50},
        "content": [{"type": "tool_use", "id": "t", "name": "record_description", "input": OUTPUT}]})
    desc = batch.parse_reply(describer, "c" * 64, PROMPT, message)
    assert desc.ok and desc.text == "A red scarf." and desc.input_tokens == 500


def test_a_shard_sidecar_written_before_inputs_hashes_still_reads(stocked_lab: Lab) -> None:
    sidecar = stocked_lab.workspace.root / "batches" / "old.keys.json"
    sidecar.parent.mkdir(exist_ok=True)
    sidecar.write_text(json.dumps({"k1": "a" * 64}))  # custom_id -> sha, as shards in flight across an upgrade hold
    assert batch._keys(stocked_lab, {"path": "batches/old.jsonl"}) == {"k1": ("a" * 64, "")}


def job(status: str, expires: datetime) -> dict:
    return {"status": status, "results_expire_at": expires.isoformat(), "batch_id": "msgbatch_1",
            "provider": "anthropic"}


def test_expiry_warning_only_near_the_deadline() -> None:
    now = datetime(2026, 1, 10, tzinfo=UTC)
    assert batch.expiry_warning(job("ended", now + timedelta(days=10)), now) is None
    assert "2 day(s) left" in batch.expiry_warning(job("ended", now + timedelta(days=2, hours=1)), now)
    assert "expired" in batch.expiry_warning(job("ended", now - timedelta(hours=1)), now)
    assert batch.expiry_warning(job("ingested", now + timedelta(hours=1)), now) is None


def test_cost_estimate_shows_sync_and_batch_per_1000(stocked_lab: Lab) -> None:
    estimate = batch.estimate_cost(stocked_lab, stocked_lab.prompts.get("preference"), "openai", "gpt-4o-mini")
    assert estimate.source == "heuristic" and estimate.items == 6
    assert estimate.sync_per_1000 > 0 and estimate.batch_per_1000 == pytest.approx(estimate.sync_per_1000 / 2)
    assert estimate.batch_total == pytest.approx(estimate.batch_per_1000 * 6 / 1000)
    local = batch.estimate_cost(stocked_lab, stocked_lab.prompts.get("preference"), "openai", "llava:7b", items=1000)
    assert local.sync_per_1000 == local.batch_per_1000 == 0  # unpriced local models cost nothing


def test_cost_estimate_prefers_this_workspaces_history(stocked_lab: Lab) -> None:
    prompt = stocked_lab.prompts.get("preference")
    desc = batch.failure(OpenAIDescriber(base_url="http://x", api_key="k"), "d" * 64, prompt, "")
    stocked_lab.store.upsert_descriptions([desc.model_copy(update={"input_tokens": 4000, "output_tokens": 200})])
    estimate = batch.estimate_cost(stocked_lab, prompt, "openai", "gpt-4o-mini", items=1000)
    assert estimate.source == "history" and estimate.input_tokens == 4000
    assert estimate.sync_per_1000 == pytest.approx(1000 * cost_usd("openai", "gpt-4o-mini", 4000, 200))


def test_only_sdk_providers_have_a_batch_mode(stocked_lab: Lab) -> None:
    with pytest.raises(VitrineError, match="Batch API"):
        batch.describe_batch(stocked_lab, stocked_lab.prompts.get("preference"), "fake")
