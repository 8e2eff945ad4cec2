"""Pure tests of the provider plumbing: requests, replies, capabilities, validation, facets, costs, errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion
from PIL import Image

from core.describe.image_payload import SentImage, prepare_image
from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.errors import InvalidOutput, ProviderError, ProviderOutputError, from_sdk_error, redact
from core.describe.providers.openai_provider import OpenAIDescriber
from core.describe.providers.sdk import RawReply, build_description, keep_facets, parse_output
from core.describe.registry import provider_class
from core.describe.secrets import ENV_VARS
from core.describe.structured import schema_instructions
from core.models import Attributes, DescriptionOutput, ImageRef, output_json_schema

KEY = "sk-unit-SECRET-0123456789"
WHO = "openai:gpt-4o-mini"
LOCAL = "http://127.0.0.1:9"  # never contacted: nothing below opens a connection
OUTPUT = {"description": "A navy tote.", "attributes": {"style": [], "material": ["leather"], "colour": ["navy"],
                                                        "pattern": [], "usage_context": [], "occasion": []}}


@pytest.fixture
def image_ref(tmp_path: Path) -> ImageRef:
    path = tmp_path / "item.png"
    Image.new("RGB", (8, 8), (20, 30, 90)).save(path)
    return ImageRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), path=path, context={"category": "bag"})


@pytest.fixture
def prompt() -> PromptVersion:
    return PromptVersion(name="looks", version=3, template="Describe the {category}.", variables=["category"],
                         facets=["colour", "material"], max_words=20)


def test_parse_output_accepts_json_text_and_normalises_facets() -> None:
    raw = json.dumps({"description": "A navy tote.", "attributes": {"colour": "Navy ", "material": ["Leather"]}})
    out = parse_output(raw, WHO)
    assert out.description == "A navy tote."
    assert out.attributes.colour == ["navy"]
    assert out.attributes.material == ["leather"]


def test_parse_output_accepts_an_already_decoded_object() -> None:
    out = parse_output({"description": "A mug.", "attributes": {"style": ["rustic"]}}, WHO)
    assert out.attributes.style == ["rustic"]


def test_malformed_json_is_an_output_error_naming_the_source() -> None:
    with pytest.raises(InvalidOutput, match=r"openai:gpt-4o-mini: output is not valid JSON") as err:
        parse_output('{"description": "trunc', WHO)
    assert "trunc" in str(err.value)  # the offending text is quoted for debugging
    assert err.value.problem == "the reply's JSON is not valid"  # what a re-ask tells the model


@pytest.mark.parametrize(("payload", "where"), [
    ({"caption": "no description key"}, "description"),
    ({"description": "ok", "attributes": "none"}, "attributes"),
    ({"description": ["a", "list"]}, "description"),
])
def test_schema_invalid_output_says_which_field(payload: dict, where: str) -> None:
    with pytest.raises(InvalidOutput, match=f"does not match the description schema: {where}") as err:
        parse_output(payload, WHO)
    assert where in err.value.problem


def test_blank_description_is_rejected() -> None:
    with pytest.raises(InvalidOutput, match="empty description"):
        parse_output({"description": "   ", "attributes": {}}, WHO)


def test_keep_facets_empties_the_facets_the_prompt_did_not_request() -> None:
    attrs = Attributes(style=["sporty"], colour=["red"], material=["mesh"], occasion=["gym"])
    kept = keep_facets(attrs, ["colour", "material"])
    assert kept.covered() == {"style": False, "material": True, "colour": True, "pattern": False,
                              "usage_context": False, "occasion": False}
    assert kept.colour == ["red"]


def test_build_description_records_usage_cost_and_prompt_identity(image_ref: ImageRef,
                                                                  prompt: PromptVersion) -> None:
    output = DescriptionOutput(description="  A navy leather tote.  ",
                               attributes=Attributes(colour=["navy"], material=["leather"], style=["classic"]))
    reply = RawReply(payload={}, input_tokens=1200, output_tokens=300)
    desc = build_description(image_ref, prompt, provider="openai", model="gpt-4o-mini", output=output,
                             reply=reply, latency_ms=12.5)
    assert (desc.prompt_name, desc.prompt_version, desc.prompt_hash) == ("looks", 3, prompt.hash)
    assert desc.image_sha256 == image_ref.sha256
    assert desc.text == "A navy leather tote."
    assert desc.attributes.style == []  # not requested by the prompt
    assert (desc.input_tokens, desc.output_tokens, desc.latency_ms) == (1200, 300, 12.5)
    assert desc.cost_usd == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1_000_000)
    assert desc.cost_usd == cost_usd("openai", "gpt-4o-mini", 1200, 300)


def test_unpriced_local_models_cost_nothing(image_ref: ImageRef, prompt: PromptVersion) -> None:
    desc = build_description(image_ref, prompt, provider="openai", model="llava:13b",
                             output=DescriptionOutput(description="x"), reply=RawReply({}, 500, 100), latency_ms=1.0)
    assert desc.cost_usd == 0.0


def test_redact_removes_every_occurrence_and_tolerates_no_secret() -> None:
    assert redact(f"bad key {KEY}, really {KEY}", KEY) == "bad key ***, really ***"
    assert redact("nothing to hide", None) == "nothing to hide"


@pytest.mark.parametrize("echo", [KEY[:-2], KEY[3:], KEY[5:13], f"...{KEY[4:20]}..."])
def test_redact_masks_any_run_of_eight_or_more_characters_of_the_key(echo: str) -> None:
    """Observed: a server echoed the key minus its last 2 characters, and that was stored in LanceDB."""
    masked = redact(f"rejected credential {echo!r} here", KEY)
    assert not any(KEY[i:i + 8] in masked for i in range(len(KEY) - 7))
    assert masked.startswith("rejected credential ") and masked.endswith(" here")


@pytest.mark.parametrize("shaped", [
    "sk-proj-Abc123Def456Ghi789", "sk-ant-api03-AAAABBBBCCCC1234", "0123456789abcdef0123456789abcdef01",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
])
def test_redact_masks_anything_shaped_like_a_key_even_unknown_ones(shaped: str) -> None:
    assert redact(f"the server said: {shaped}!", None) == "the server said: ***!"


def test_redact_leaves_ordinary_words_urls_and_model_names_alone() -> None:
    text = ("HTTP 400 from http://127.0.0.1:8080/v1 for llava:13b-v1.6-mistral-q4_K_M and "
            "Qwen2-VL-7B-Instruct-GGUF-Q4_K_M-imatrix: unsupported parameter")
    assert redact(text, KEY) == text


def _response(status: int) -> httpx2.Response:
    return httpx2.Response(status, request=httpx2.Request("POST", "https://api.example.test/v1/x"))


def test_auth_errors_name_the_env_var_and_never_the_key() -> None:
    body = {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}
    exc = openai.AuthenticationError(f"Error code: 401 - {body}", response=_response(401), body=body)
    err = from_sdk_error(exc, openai, provider="openai", model="gpt-4o-mini", secret=KEY, max_retries=4)
    assert isinstance(err, ProviderError)
    assert "OPENAI_API_KEY" in str(err) and "401" in str(err)
    assert KEY not in str(err) and "Incorrect API key" not in str(err)


def test_status_errors_quote_the_api_message_with_the_key_redacted() -> None:
    body = {"type": "error", "error": {"type": "api_error", "message": f"upstream choked on {KEY}"}}
    exc = anthropic.InternalServerError("Error code: 500", response=_response(500), body=body)
    err = from_sdk_error(exc, anthropic, provider="anthropic", model="claude-haiku-4-5", secret=KEY, max_retries=2)
    assert str(err) == "anthropic:claude-haiku-4-5: HTTP 500: upstream choked on ***"


def test_rate_limit_and_connection_errors_mention_the_retries() -> None:
    rate = anthropic.RateLimitError("Error code: 429", response=_response(429), body=None)
    err = from_sdk_error(rate, anthropic, provider="anthropic", model="m", secret=KEY, max_retries=4)
    assert "429" in str(err) and "after up to 4 retries" in str(err)
    timeout = openai.APITimeoutError(request=httpx2.Request("POST", "https://api.example.test"))
    err = from_sdk_error(timeout, openai, provider="openai", model="m", secret=KEY, max_retries=0, timeout=30)
    assert str(err) == ("openai:m: no answer within the 30 s request timeout; raise the connection's timeout, "
                        "lower the concurrency, or check that the server is not stuck")


@pytest.mark.parametrize(("body", "said"), [
    ("Bad Request: model is not loaded", "Bad Request: model is not loaded"),  # a plain-text body
    ("<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>", "502 Bad Gateway nginx"),
    ({"error": "'response_format.type' must be 'json_schema' or 'text'"},  # LM Studio: error is a string
     "'response_format.type' must be 'json_schema' or 'text'"),
    ({"detail": [{"loc": ["body", "max_tokens"], "msg": "Input should be a valid integer"}]},  # FastAPI (vLLM)
     "Input should be a valid integer"),
])
def test_status_errors_quote_the_servers_words_from_any_body(body: object, said: str) -> None:
    exc = openai.BadRequestError("Error code: 400", response=_response(400), body=body)
    err = from_sdk_error(exc, openai, provider="openai", model="m", secret=KEY, max_retries=0)
    assert str(err) == f"openai:m: HTTP 400: {said}"
    assert (err.status, err.detail) == (400, said)


def test_local_base_url_needs_no_key_and_repr_hides_an_explicit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    local = OpenAIDescriber(model="llava", base_url="http://127.0.0.1:9/v1")
    client = local.client()
    assert client.api_key == "not-needed"
    assert local.client() is client  # created once, then cached
    assert KEY not in repr(OpenAIDescriber(api_key=KEY))


def test_runaway_output_is_rejected_as_oversize() -> None:
    long_text = " ".join(["word"] * 400)
    with pytest.raises(ProviderOutputError, match=r"oversize output \(400 words; the prompt allows 70\)"):
        parse_output({"description": long_text, "attributes": {}}, WHO, max_words=70)
    assert parse_output({"description": long_text, "attributes": {}}, WHO, max_words=200).description
    with pytest.raises(ProviderOutputError, match="oversize output .* characters"):
        parse_output('{"description": "' + "x" * 70_000 + '"}', WHO)


SENT = SentImage("QUJD", "image/png", 8, 8)


def test_openai_build_request_is_the_chat_completion_body() -> None:
    request = OpenAIDescriber(model="gpt-4o-mini", base_url=LOCAL).build_request(SENT, "Describe it.", "json_schema")
    assert request == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            {"type": "text", "text": "Describe it."},
        ]}],
        "max_tokens": 1024,  # a compatible server: the field every one of them knows
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "product_description", "strict": True, "schema": output_json_schema()}},
    }


def test_openai_lower_rungs_carry_the_schema_in_the_prompt_and_the_hosted_api_gets_max_completion_tokens() -> None:
    local = OpenAIDescriber(base_url=LOCAL, detail="low")
    json_mode = local.build_request(SENT, "Describe it.", "json_object")
    assert json_mode["response_format"] == {"type": "json_object"}
    assert json_mode["messages"][0]["content"][1]["text"] == "Describe it." + schema_instructions()
    assert json_mode["messages"][0]["content"][0]["image_url"]["detail"] == "low"
    plain = local.build_request(SENT, "Describe it.", "prompt")
    assert "response_format" not in plain and plain["messages"] == json_mode["messages"]
    hosted = OpenAIDescriber(api_key="k").build_request(SENT, "Describe it.", "json_schema")
    assert hosted["max_completion_tokens"] == 1024 and "max_tokens" not in hosted


def test_anthropic_prompt_mode_drops_the_tool_for_the_schema_in_the_prompt() -> None:
    request = AnthropicDescriber(base_url=LOCAL).build_request(SENT, "Hi.", "prompt")
    assert "tools" not in request and "tool_choice" not in request
    assert request["messages"][0]["content"][1]["text"] == "Hi." + schema_instructions()


def test_anthropic_build_request_forces_the_description_tool() -> None:
    request = AnthropicDescriber(model="claude-haiku-4-5", base_url=LOCAL).build_request(
        SentImage("QUJD", "image/jpeg", 8, 8), "Hi.", "json_schema")
    assert request == {
        "model": "claude-haiku-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}},
            {"type": "text", "text": "Hi."},
        ]}],
        "tools": [{"name": "record_description", "description": "Record the product description and its attributes.",
                   "input_schema": output_json_schema()}],
        "tool_choice": {"type": "tool", "name": "record_description"},
    }


def test_request_for_encodes_the_image_and_renders_the_prompt(image_ref: ImageRef, prompt: PromptVersion) -> None:
    describer = OpenAIDescriber(base_url=LOCAL)
    assert describer.request_for(image_ref, prompt) == describer.build_request(
        prepare_image(image_ref.path), "Describe the bag.", "json_schema")


def completion(content: str | None, refusal: str | None = None, finish: str = "stop") -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}})


def message(stop_reason: str, *content: dict) -> Message:
    return Message.model_validate({
        "id": "m1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": stop_reason,
        "stop_sequence": None, "usage": {"input_tokens": 500, "output_tokens": 50}, "content": list(content)})


def test_parse_response_yields_the_payload_and_usage() -> None:
    text = json.dumps(OUTPUT)
    assert OpenAIDescriber(base_url=LOCAL).parse_response(completion(text)) == RawReply(text, 1200, 300)
    tool_call = {"type": "tool_use", "id": "t1", "name": "record_description", "input": OUTPUT}
    reply = AnthropicDescriber(base_url=LOCAL).parse_response(message("tool_use", tool_call))
    assert reply == RawReply(OUTPUT, 500, 50, call_id="t1")
    said = AnthropicDescriber(base_url=LOCAL).parse_response(message("end_turn", {"type": "text", "text": text}))
    assert said == RawReply(text, 500, 50)  # a server that ignored the tool: its text is read leniently


@pytest.mark.parametrize(("describer", "obj", "error"), [
    (OpenAIDescriber(base_url=LOCAL), completion(None, refusal="no"), "openai:gpt-4o-mini: the model refused: no"),
    (OpenAIDescriber(base_url=LOCAL), completion(None), r"empty response \(finish_reason=stop\)"),
    (AnthropicDescriber(base_url=LOCAL), message("refusal", {"type": "text", "text": "I can't."}),
     "anthropic:claude-haiku-4-5: the model refused: I can't."),
    (AnthropicDescriber(base_url=LOCAL), message("end_turn"),
     r"no record_description tool call and no text in the response \(stop_reason=end_turn\)"),
    (OpenAIDescriber(base_url=LOCAL), completion('{"description": "A na', finish="length"),
     r"cut off at max_tokens \(1024\)"),
    (AnthropicDescriber(base_url=LOCAL),  # a cut-off tool input is still valid JSON: it must not pass as a description
     message("max_tokens", {"type": "tool_use", "id": "t1", "name": "record_description",
                            "input": {"description": "A navy"}}), r"cut off at max_tokens \(1024\)"),
])
def test_parse_response_rejects_refusals_and_missing_output(describer: Any, obj: Any, error: str) -> None:
    with pytest.raises(ProviderOutputError, match=error):
        describer.parse_response(obj)


def test_describe_sends_build_request_and_parses_the_reply(image_ref: ImageRef, prompt: PromptVersion,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    describer = OpenAIDescriber(base_url=LOCAL)
    sent: list[dict] = []

    def send(client: object, request: dict) -> ChatCompletion:  # the one network call, answered from a can
        sent.append(request)
        return completion(json.dumps(OUTPUT))

    monkeypatch.setattr(describer, "send", send)
    desc = describer.describe(image_ref, prompt)
    assert sent == [describer.request_for(image_ref, prompt)]
    assert (desc.text, desc.attributes.colour, desc.attributes.material) == ("A navy tote.", ["navy"], ["leather"])
    assert (desc.input_tokens, desc.output_tokens) == (1200, 300)


@pytest.mark.parametrize(("name", "supports_batch", "is_lvlm"), [
    ("offline", False, False), ("openai", True, True), ("anthropic", True, True),
])
def test_capabilities_live_on_the_provider_class(name: str, supports_batch: bool, is_lvlm: bool) -> None:
    cls = provider_class(name)
    assert (cls.provider, cls.supports_batch, cls.is_lvlm) == (name, supports_batch, is_lvlm)
    assert cls.key_env_var == ENV_VARS.get(name)  # the variable core.describe.secrets reads
    assert cls.needs_key == (cls.key_env_var is not None)

