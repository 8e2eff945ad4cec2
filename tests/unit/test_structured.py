"""Structured output across servers, without a network: lenient reading, the ladder, the re-ask, the diagnosis."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion
from PIL import Image

from core.describe.diagnosis import explain_failures
from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.errors import InvalidOutput, ProviderError
from core.describe.providers.openai_provider import OpenAIDescriber
from core.describe.providers.sdk import RawReply, parse_output
from core.describe.structured import coerce, extract_json
from core.errors import ConfigError
from core.models import ImageRef

WHO = "openai:llava"
OUTPUT = {"description": "A red scarf.", "attributes": {"colour": ["red"], "material": ["wool"]}}
LOCAL = "http://127.0.0.1:9"  # never contacted: send() is replaced below
SCHEMA_400 = {"message": "response_format json_schema is not supported by this model", "type": "invalid_request_error"}
LMSTUDIO_400 = "'response_format.type' must be 'json_schema' or 'text'"  # LM Studio's body: {"error": "<text>"}


@pytest.fixture
def image_ref(tmp_path: Path) -> ImageRef:
    path = tmp_path / "scarf.png"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(path)
    return ImageRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), path=path, context={"category": "scarf"})


@pytest.fixture
def prompt() -> PromptVersion:
    return PromptVersion(name="looks", version=1, template="Describe the {category}.", variables=["category"],
                         facets=["colour", "material"], max_words=20)


# --- lenient reading -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    json.dumps(OUTPUT),
    f"```json\n{json.dumps(OUTPUT, indent=2)}\n```",
    f"```\n{json.dumps(OUTPUT)}\n```",
    f"Sure! Here is the JSON you asked for: {json.dumps(OUTPUT)} Let me know if you need more.",
    f"Thinking about {{the colours}} first.\n{json.dumps(OUTPUT)}",  # a brace in prose before the object
])
def test_the_first_json_object_is_found_in_fences_or_prose(reply: str) -> None:
    assert extract_json(reply) == OUTPUT


def test_a_reply_without_json_says_so_and_quotes_it() -> None:
    with pytest.raises(InvalidOutput, match="holds no JSON object: 'I see a red scarf") as err:
        extract_json("I see a red scarf on a white background.")
    assert err.value.problem == "the reply holds no JSON object"


def test_obvious_shapes_are_coerced_before_strict_validation() -> None:
    loose = {"description": 42, "attributes": {"color": "red, blue", "material": [{"name": "Wool"}, {"value": "silk"}],
                                               "pattern": 3, "style": [{"look": "boho"}]}}
    assert coerce(loose) == {"description": "42", "attributes": {
        "colour": ["red", "blue"], "material": ["Wool", "silk"], "pattern": ["3"], "style": ["boho"]}}
    lifted = parse_output({"description": "A mug.", "colour": "white; blue"}, WHO)  # facets at the top level
    assert lifted.attributes.colour == ["white", "blue"]


def test_ambiguous_shapes_are_left_for_validation_to_reject() -> None:
    with pytest.raises(InvalidOutput, match="attributes"):
        parse_output({"description": "A mug.", "attributes": ["red"]}, WHO)
    with pytest.raises(InvalidOutput, match="description: Input should be a valid string"):
        parse_output({"description": {"text": "A mug.", "tone": "warm"}}, WHO)


# --- a describer whose one network call is scripted ------------------------------------------------------

def completion(content: str, usage: bool = True) -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "c1", "object": "chat.completion", "created": 0, "model": "llava",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500} if usage else None})


class Server:
    """send() stand-in: refuses the response_format types in `rejects` with a 400, otherwise answers in turn."""

    def __init__(self, rejects: dict[str, object] | None = None, answers: list[str] | None = None,
                 delay: float = 0.0, usage: bool = True) -> None:
        self.rejects, self.answers, self.delay, self.usage = rejects or {}, list(answers or []), delay, usage
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, client: object, request: dict) -> ChatCompletion:
        with self._lock:
            self.requests.append(request)
            answer = self.answers.pop(0) if self.answers else json.dumps(OUTPUT)
        time.sleep(self.delay)
        mode = (request.get("response_format") or {}).get("type", "prompt")
        if mode in self.rejects:
            response = httpx2.Response(400, request=httpx2.Request("POST", f"{LOCAL}/v1/chat/completions"))
            raise openai.BadRequestError("Error code: 400", response=response, body=self.rejects[mode])
        return completion(answer, self.usage)

    @property
    def modes(self) -> list[str]:
        return [(r.get("response_format") or {}).get("type", "prompt") for r in self.requests]


def scripted(server: Server, monkeypatch: pytest.MonkeyPatch, **options: object) -> OpenAIDescriber:
    describer = OpenAIDescriber(model="llava", base_url=LOCAL, **options)  # type: ignore[arg-type]
    monkeypatch.setattr(describer, "send", server)
    return describer


# --- the ladder ------------------------------------------------------------------------------------------

def test_the_ladder_steps_past_both_400s_and_remembers_the_rung_that_worked(image_ref: ImageRef, prompt: PromptVersion,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that refuses strict json_schema and, like LM Studio, json_object: the schema goes in the prompt."""
    server = Server(rejects={"json_schema": SCHEMA_400, "json_object": LMSTUDIO_400})
    describer = scripted(server, monkeypatch)
    assert describer.structured_mode is None
    assert describer.describe(image_ref, prompt).attributes.colour == ["red"]
    assert server.modes == ["json_schema", "json_object", "prompt"]
    assert describer.structured_mode == "prompt"  # the caller stores it with the connection
    describer.describe(image_ref, prompt)
    assert server.modes[3:] == ["prompt"]  # remembered: no probing again


def test_the_ladder_is_probed_once_however_many_items_start_together(image_ref: ImageRef, prompt: PromptVersion,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(rejects={"json_schema": SCHEMA_400}, delay=0.05)
    describer = scripted(server, monkeypatch)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: describer.describe(image_ref, prompt), range(8)))
    assert all(r.ok for r in results)
    assert server.modes.count("json_schema") == 1 and server.modes.count("json_object") == 8


def test_a_remembered_mode_the_server_rejects_names_the_mode_and_the_setting(image_ref: ImageRef,
                                                                              prompt: PromptVersion,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(rejects={"json_object": LMSTUDIO_400})
    describer = scripted(server, monkeypatch, structured_mode="json_object")
    with pytest.raises(ProviderError, match="this server rejects json_object; set the connection's structured_mode "
                                            "to prompt, or leave structured_mode empty"):
        describer.describe(image_ref, prompt)
    assert server.modes == ["json_object"]  # a mode that was set is not second-guessed


def test_a_400_about_something_else_does_not_move_down_the_ladder(image_ref: ImageRef, prompt: PromptVersion,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(rejects={"json_schema": {"message": "image too large for this model"}})
    describer = scripted(server, monkeypatch)
    with pytest.raises(ProviderError, match="HTTP 400: image too large") as err:
        describer.describe(image_ref, prompt)
    assert "rejects" not in str(err.value)
    assert server.modes == ["json_schema"] and describer.structured_mode is None  # the next item probes again


@pytest.mark.parametrize(("cls", "mode"), [(OpenAIDescriber, "xml"), (AnthropicDescriber, "json_object")])
def test_an_unknown_structured_mode_is_a_config_error(cls: type, mode: str) -> None:
    with pytest.raises(ConfigError, match="structured_mode must be one of"):
        cls(base_url=LOCAL, structured_mode=mode)


@pytest.mark.parametrize(("option", "value"), [("timeout", "soon"), ("timeout", 0), ("item_deadline", -5)])
def test_timeouts_must_be_positive_seconds(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{option} must be a positive number of seconds"):
        OpenAIDescriber(base_url=LOCAL, **{option: value})  # type: ignore[arg-type]
    assert OpenAIDescriber(base_url=LOCAL, timeout="2.5").timeout == 2.5  # type: ignore[arg-type]


# --- the re-ask ------------------------------------------------------------------------------------------

def test_one_re_ask_quotes_the_problem_and_both_calls_are_counted(image_ref: ImageRef, prompt: PromptVersion,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(answers=['{"caption": "A red scarf."}', json.dumps(OUTPUT)])
    desc = scripted(server, monkeypatch).describe(image_ref, prompt)
    assert desc.ok and desc.text == "A red scarf."
    assert (desc.input_tokens, desc.output_tokens) == (2400, 600)
    assert desc.cost_usd == cost_usd("openai", "llava", 2400, 600)
    first, again = server.requests
    assert again["messages"][:1] == first["messages"]
    assert again["messages"][1] == {"role": "assistant", "content": '{"caption": "A red scarf."}'}
    assert "does not match the schema (description: Field required)" in again["messages"][2]["content"]


def test_a_second_unusable_reply_fails_the_item_without_a_third_call(image_ref: ImageRef, prompt: PromptVersion,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(answers=["I see a red scarf.", "Still just prose."])
    with pytest.raises(InvalidOutput, match=r"holds no JSON object: 'Still just prose.'.*\(also after one re-ask\)"):
        scripted(server, monkeypatch).describe(image_ref, prompt)
    assert len(server.requests) == 2


def test_an_anthropic_re_ask_answers_the_tool_call_with_an_error_result() -> None:
    turns = AnthropicDescriber(base_url=LOCAL).followup(RawReply({"caption": "x"}, 1, 1, call_id="toolu_1"), "fix it")
    assert turns == [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "record_description",
                                           "input": {"caption": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
                                      "content": "fix it"}]}]


def test_a_reply_without_usage_is_costed_from_what_was_sent(image_ref: ImageRef, prompt: PromptVersion,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    describer = OpenAIDescriber(model="gpt-4o-mini", base_url=LOCAL)
    monkeypatch.setattr(describer, "send", Server(usage=False))
    desc = describer.describe(image_ref, prompt)
    image = OpenAIDescriber.image_tokens("gpt-4o-mini", 16, 16)
    assert desc.input_tokens == image + len("Describe the scarf.") // 4 and desc.output_tokens > 0
    assert desc.cost_usd == cost_usd("openai", "gpt-4o-mini", desc.input_tokens, desc.output_tokens) > 0


# --- when a whole run fails -------------------------------------------------------------------------------

def test_the_diagnosis_names_the_most_common_error_and_its_likely_fix() -> None:
    rejected = ("ProviderError: openai:llava: HTTP 400: response_format json_schema is not supported; this server "
                "rejects json_schema; set the connection's structured_mode to json_object or prompt, or leave "
                "structured_mode empty so Vitrine probes what works")
    errors = [rejected] * 3 + ["ProviderError: openai:llava: could not connect; check that the server runs"]
    summary = explain_failures(errors)
    assert summary.startswith("all 4 items failed; most common error (3 of 4): ProviderError: openai:llava: HTTP 400")
    assert summary.endswith("likely fix: this server rejects json_schema: leave the connection's structured_mode "
                            "empty so Vitrine probes what works, or set a lower rung (json_object, then prompt)")


def test_errors_differing_only_in_quoted_output_count_as_one_cause() -> None:
    errors = [f"ProviderOutputError: openai:m: output is not valid JSON: the reply holds no JSON object: 'item {i}'"
              for i in range(3)] + ["ProviderError: openai:m: HTTP 404: no such model"] * 2
    summary = explain_failures(errors)
    assert "(3 of 5)" in summary and "likely fix: the model does not follow the output schema" in summary
