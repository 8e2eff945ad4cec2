"""The real openai/anthropic SDKs over HTTP against the local FakeLVLMServer (retries, faults, keys)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
import openai
import pytest
from PIL import Image

from core.describe.pricing import cost_usd
from core.describe.prompts import PromptVersion
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.errors import ProviderError, ProviderOutputError
from core.describe.providers.openai_provider import OpenAIDescriber
from core.describe.providers.sdk import SDKDescriber
from core.errors import ConfigError, VitrineError
from core.models import ImageRef
from core.testing.fake_lvlm import FakeLVLMServer

KEY = "sk-test-SECRET-abcdef123456"
CLASSES: dict[str, type[SDKDescriber]] = {"openai": OpenAIDescriber, "anthropic": AnthropicDescriber}
PROVIDERS = list(CLASSES)


@pytest.fixture
def srv() -> Iterator[FakeLVLMServer]:
    with FakeLVLMServer() as server:
        yield server


@pytest.fixture
def image_ref(tmp_path: Path) -> ImageRef:
    path = tmp_path / "red.png"
    Image.new("RGB", (24, 24), (205, 25, 30)).save(path)
    return ImageRef(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), path=path, context={"category": "scarf"})


@pytest.fixture
def prompt() -> PromptVersion:
    return PromptVersion(name="appearance", version=1, variables=["category"], facets=["colour", "pattern", "material"],
                         template="Describe the colour, pattern and material of this {category} in {max_words} words.")


def make(provider: str, srv: FakeLVLMServer, **options: object) -> SDKDescriber:
    base_url = srv.base_url_openai if provider == "openai" else srv.base_url_anthropic
    return CLASSES[provider](base_url=base_url, **{"api_key": KEY, **options})  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_describe_over_http_returns_a_costed_description(provider: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                                         prompt: PromptVersion) -> None:
    describer = make(provider, srv)
    desc = describer.describe(image_ref, prompt)
    assert desc.ok and desc.provider == provider and desc.model == describer.model
    assert desc.image_sha256 == image_ref.sha256 and desc.prompt_hash == prompt.hash
    assert desc.attributes.colour == ["red"] and desc.attributes.pattern == ["solid"]
    assert desc.attributes.material and not desc.attributes.style  # only the requested facets
    assert "colour: red" in desc.text
    assert desc.input_tokens > 85 and desc.output_tokens > 0 and desc.latency_ms > 0
    assert desc.cost_usd > 0
    assert desc.cost_usd == cost_usd(provider, describer.model, desc.input_tokens, desc.output_tokens)
    [request] = srv.requests
    assert request.model == describer.model
    assert KEY not in str(request.headers)  # auth headers are not recorded


@pytest.mark.parametrize("provider", PROVIDERS)
def test_facets_the_prompt_did_not_request_are_dropped(provider: str, srv: FakeLVLMServer,
                                                       image_ref: ImageRef) -> None:
    chatty = PromptVersion(name="chatty", version=1, facets=["colour"],
                           template="Cover style, material, colour, pattern, usage context and occasion.")
    desc = make(provider, srv).describe(image_ref, chatty)
    assert desc.attributes.covered() == {"style": False, "material": False, "colour": True, "pattern": False,
                                         "usage_context": False, "occasion": False}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_the_sdk_retries_transient_errors(provider: str, fault: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                          prompt: PromptVersion) -> None:
    srv.inject(fault, retry_after=0.01)
    desc = make(provider, srv, max_retries=2).describe(image_ref, prompt)
    assert desc.attributes.colour == ["red"]
    assert [r.fault for r in srv.requests] == [fault, None]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rate_limit_beyond_the_retry_budget_is_a_provider_error(provider: str, srv: FakeLVLMServer,
                                                                image_ref: ImageRef, prompt: PromptVersion) -> None:
    for _ in range(3):
        srv.inject("429", retry_after=0.01)
    with pytest.raises(ProviderError, match=r"rate limited \(HTTP 429\) after up to 1 retries"):
        make(provider, srv, max_retries=1).describe(image_ref, prompt)
    assert len(srv.requests) == 2


@pytest.mark.parametrize(("provider", "env_var"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_a_rejected_key_is_not_retried_and_not_echoed(provider: str, env_var: str, srv: FakeLVLMServer,
                                                       image_ref: ImageRef, prompt: PromptVersion) -> None:
    srv.inject("401")
    with pytest.raises(ProviderError, match=env_var) as err:
        make(provider, srv).describe(image_ref, prompt)
    assert KEY not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # the SDK's text is not chained
    assert len(srv.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("fault", "message"), [
    ("refusal", "the model refused: I'm sorry"),
    ("oversize", "oversize output"),
])
def test_unusable_output_is_a_provider_output_error(provider: str, fault: str, message: str, srv: FakeLVLMServer,
                                                    image_ref: ImageRef, prompt: PromptVersion) -> None:
    srv.inject(fault)
    with pytest.raises(ProviderOutputError, match=message):
        make(provider, srv).describe(image_ref, prompt)
    assert len(srv.requests) == 1  # a 200 with bad content is not retried, nor re-asked: the model cannot fix it


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("fault", "problem"), [
    ("malformed_json", "the reply's JSON is not valid"),
    ("schema_invalid", "it does not match the schema (description: Field required)"),
])
def test_one_re_ask_quoting_the_problem_repairs_a_bad_reply(provider: str, fault: str, problem: str,
                                                            srv: FakeLVLMServer, image_ref: ImageRef,
                                                            prompt: PromptVersion) -> None:
    srv.inject(fault)
    desc = make(provider, srv).describe(image_ref, prompt)
    assert desc.ok and desc.attributes.colour == ["red"]
    first, again = srv.requests
    assert problem in again.text and problem not in first.text  # Anthropic: as the tool call's error result
    assert desc.input_tokens > 2 * 85  # both calls are counted
    assert desc.cost_usd == cost_usd(provider, desc.model, desc.input_tokens, desc.output_tokens)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("fault", "message"), [
    ("malformed_json", "output is not valid JSON"),
    ("schema_invalid", "does not match the description schema"),
])
def test_output_still_unusable_after_the_re_ask_fails_the_item(provider: str, fault: str, message: str,
                                                               srv: FakeLVLMServer, image_ref: ImageRef,
                                                               prompt: PromptVersion) -> None:
    srv.inject(fault)
    srv.inject(fault)
    with pytest.raises(ProviderOutputError, match=rf"{message}.*\(also after one re-ask\)"):
        make(provider, srv).describe(image_ref, prompt)
    assert len(srv.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeouts_and_resets_become_provider_errors(provider: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                                    prompt: PromptVersion) -> None:
    describer = make(provider, srv, timeout=0.2, max_retries=0)
    srv.inject("timeout", delay_s=3.0)
    with pytest.raises(ProviderError, match="no answer within the 0.2 s request timeout; raise the connection's"):
        describer.describe(image_ref, prompt)
    srv.inject("reset")
    with pytest.raises(ProviderError, match="could not connect"):
        describer.describe(image_ref, prompt)
    assert describer.describe(image_ref, prompt).ok  # the same cached client recovers


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reset_connection_is_retried_by_the_sdk(provider: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                                  prompt: PromptVersion) -> None:
    srv.inject("reset")
    assert make(provider, srv, max_retries=1).describe(image_ref, prompt).ok
    assert [r.fault for r in srv.requests] == ["reset", None]


@pytest.mark.parametrize(("provider", "env_var"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_a_hosted_api_without_a_key_is_a_config_error(provider: str, env_var: str, image_ref: ImageRef,
                                                      prompt: PromptVersion, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(env_var, raising=False)
    describer = CLASSES[provider]()  # no base_url: the hosted API, where a key is mandatory
    with pytest.raises(ConfigError, match=env_var):
        describer.describe(image_ref, prompt)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_local_base_url_works_without_a_key(provider: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                              prompt: PromptVersion, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert make(provider, srv, api_key=None).describe(image_ref, prompt).ok


def test_the_fake_server_rejects_requests_without_an_image(srv: FakeLVLMServer) -> None:
    oa = openai.OpenAI(base_url=srv.base_url_openai, api_key=KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="no image") as oa_err:
        oa.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "describe it"}])
    assert oa_err.value.status_code == 400 and oa_err.value.type == "invalid_request_error"
    an = anthropic.Anthropic(base_url=srv.base_url_anthropic, api_key=KEY, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="no image") as an_err:
        an.messages.create(model="claude-haiku-4-5", max_tokens=64,
                           messages=[{"role": "user", "content": "describe it"}])
    assert an_err.value.status_code == 400 and an_err.value.type == "invalid_request_error"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bytes_that_are_not_an_image_are_refused_before_sending(provider: str, srv: FakeLVLMServer, tmp_path: Path,
                                                                prompt: PromptVersion) -> None:
    fake_png = tmp_path / "notes.png"
    fake_png.write_text("definitely not a picture")
    with pytest.raises(VitrineError, match="cannot read image .*notes.png: not a decodable image"):
        make(provider, srv).describe(ImageRef(sha256="0" * 64, path=fake_png), prompt)
    assert srv.requests == []


def test_server_latency_does_not_serialise_concurrent_requests(image_ref: ImageRef, prompt: PromptVersion) -> None:
    with FakeLVLMServer(latency_s=0.5) as slow:
        describer = make("openai", slow)
        describer.client()  # build the client (and import the SDK) outside the timed section
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: describer.describe(image_ref, prompt), range(4)))
        elapsed = time.perf_counter() - started
    assert all(r.ok for r in results) and len(slow.requests) == 4
    assert elapsed < 1.5  # 4 x 0.5 s would take 2 s if requests were served one at a time


# --- odd replies: each one a clear error, or a description with honest usage ---------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("fault", "message"), [
    ("plain_text", r"the server answered with plain text, not an API reply \('OK - the upstream model is still "
                   r"loading'\); check the base URL"),
    ("text_400", "HTTP 400: Bad Request: model is not loaded"),  # a plain-text error body, quoted
    ("max_tokens", r"the reply was cut off at max_tokens \(1024\) before the description was complete"),
])
def test_odd_replies_are_clear_errors(provider: str, fault: str, message: str, srv: FakeLVLMServer,
                                      image_ref: ImageRef, prompt: PromptVersion) -> None:
    """Observed: a text body raised AttributeError, and a cut-off Anthropic tool input was stored as a description."""
    srv.inject(fault)
    with pytest.raises(ProviderError, match=message):
        make(provider, srv).describe(image_ref, prompt)
    assert len(srv.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_html_page_at_the_base_url_says_to_check_it(provider: str, image_ref: ImageRef,
                                                       prompt: PromptVersion) -> None:
    with FakeLVLMServer(dialect="html-200") as web_ui, \
            pytest.raises(ProviderOutputError, match="answered with an HTML page, not an API reply; check the base"):
        make(provider, web_ui).describe(image_ref, prompt)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["null_usage", "no_usage"])
def test_a_reply_without_usage_is_kept_and_costed_from_the_sent_size(provider: str, fault: str,
                                                                     srv: FakeLVLMServer, image_ref: ImageRef,
                                                                     prompt: PromptVersion) -> None:
    """Observed: Anthropic replies without usage raised AttributeError; OpenAI ones were recorded as free."""
    srv.inject(fault)
    describer = make(provider, srv)
    desc = describer.describe(image_ref, prompt)
    assert desc.ok and desc.attributes.colour == ["red"]
    assert desc.input_tokens >= describer.image_tokens(describer.model, 24, 24) and desc.output_tokens > 0
    assert desc.cost_usd == cost_usd(provider, describer.model, desc.input_tokens, desc.output_tokens) > 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_streaming_only_server_is_streamed_once_it_shows_it(provider: str, image_ref: ImageRef,
                                                             prompt: PromptVersion) -> None:
    with FakeLVLMServer(dialect="streaming-only") as streamer:
        describer = make(provider, streamer)
        first, second = describer.describe(image_ref, prompt), describer.describe(image_ref, prompt)
    assert first.ok and second.ok and first.attributes.colour == ["red"]
    assert first.input_tokens > 85 and first.output_tokens > 0  # usage from the stream's last event
    assert [r.stream for r in streamer.requests] == [False, True, True]  # found out once, then streamed


# --- time: a hung server costs at most what the connection allows -------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hung_server_costs_about_timeout_times_attempts(provider: str, image_ref: ImageRef,
                                                          prompt: PromptVersion) -> None:
    """Observed: ~310 s per item against a hung server, and advice to allow a longer timeout with no setting."""
    with FakeLVLMServer(latency_s=30) as hung:
        started = time.perf_counter()
        with pytest.raises(ProviderError, match=r"no answer within the 0.3 s request timeout after up to 2 retries; "
                                                r"raise the connection's timeout"):
            make(provider, hung, timeout=0.3, max_retries=2).describe(image_ref, prompt)
        elapsed = time.perf_counter() - started
        assert len(hung.requests) == 3
    assert elapsed < 3 * 0.3 + 1.5 + 1.0  # three attempts, the SDK's two backoffs (<= 1.5 s), and slack


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_item_deadline_caps_retries_and_attempts(provider: str, image_ref: ImageRef,
                                                     prompt: PromptVersion) -> None:
    with FakeLVLMServer(latency_s=30) as hung:
        started = time.perf_counter()
        with pytest.raises(ProviderError, match=r"no usable answer within the item deadline of 0.5 s; raise the "
                                                r"connection's item_deadline"):
            make(provider, hung, timeout=20, max_retries=4, item_deadline=0.5).describe(image_ref, prompt)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.5 + 1.0 + 1.0  # the deadline, one SDK backoff at most, and slack; not 5 x 20 s


# --- redaction ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_key_echoed_minus_two_characters_never_reaches_the_error(provider: str, srv: FakeLVLMServer,
                                                                   image_ref: ImageRef, prompt: PromptVersion) -> None:
    """Observed: a server echoed the key minus 2 characters, and the error (with it) was stored in LanceDB."""
    srv.inject("key_echo")
    with pytest.raises(ProviderError, match="HTTP 400: malformed credential") as err:
        make(provider, srv).describe(image_ref, prompt)
    assert not any(KEY[i:i + 8] in str(err.value) for i in range(len(KEY) - 7))
