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
from core.errors import ConfigError
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
    ("malformed_json", "output is not valid JSON"),
    ("schema_invalid", "does not match the description schema"),
    ("refusal", "the model refused: I'm sorry"),
    ("oversize", "oversize output"),
])
def test_unusable_output_is_a_provider_output_error(provider: str, fault: str, message: str, srv: FakeLVLMServer,
                                                    image_ref: ImageRef, prompt: PromptVersion) -> None:
    srv.inject(fault)
    with pytest.raises(ProviderOutputError, match=message):
        make(provider, srv).describe(image_ref, prompt)
    assert len(srv.requests) == 1  # a 200 with bad content is not retried


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeouts_and_resets_become_provider_errors(provider: str, srv: FakeLVLMServer, image_ref: ImageRef,
                                                    prompt: PromptVersion) -> None:
    describer = make(provider, srv, timeout=0.2, max_retries=0)
    srv.inject("timeout", delay_s=3.0)
    with pytest.raises(ProviderError, match="timed out"):
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
def test_bytes_that_are_not_an_image_get_a_400(provider: str, srv: FakeLVLMServer, tmp_path: Path,
                                               prompt: PromptVersion) -> None:
    fake_png = tmp_path / "notes.png"
    fake_png.write_text("definitely not a picture")
    with pytest.raises(ProviderError, match="HTTP 400: the image data is not a readable image"):
        make(provider, srv).describe(ImageRef(sha256="0" * 64, path=fake_png), prompt)
    assert len(srv.requests) == 1


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
