"""Each fake-server dialect end to end through the real SDKs: a run over WebP uploads completes, or fails with the
documented message (and `vitrine describe` exits non-zero naming the likely fix)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import openai
import pytest
from PIL import Image, ImageDraw

from core.catalog.ingest import ingest
from core.cli.main import main
from core.describe.prompts import PromptVersion
from core.describe.providers import openai_provider
from core.describe.providers.anthropic_provider import AnthropicDescriber
from core.describe.providers.errors import ProviderError
from core.describe.providers.openai_provider import OpenAIDescriber
from core.lab import Lab, open_lab
from core.models import ImageRef, output_json_schema
from core.nets.encoders import HashEncoder
from core.runs.describe import RunReport
from core.runs.prompt import run_prompt
from core.testing.fake_lvlm import FakeLVLMServer
from tests.fakes import COLOURS

MODELS = {"openai": "llava:13b", "anthropic": "claude-haiku-4-5"}
ITEMS = ("red", "blue", "green")


def webp(colour: str, i: int) -> bytes:
    """A product shot larger than the default long side, as a shop uploads it."""
    image = Image.new("RGB", (1800, 1200), COLOURS[colour])
    ImageDraw.Draw(image).rectangle((10 * i, 0, 10 * i + 5, 5), fill=(250, 250, 250))  # one image per item
    buf = io.BytesIO()
    image.save(buf, "WEBP")
    return buf.getvalue()


@pytest.fixture
def shop(tmp_path: Path) -> Lab:
    lab = open_lab(tmp_path / "ws", encoder=HashEncoder())
    uploads = [(f"P{i}.webp", webp(colour, i)) for i, colour in enumerate(ITEMS)]
    assert ingest(lab.store, lab.images, [], uploads=uploads).accepted == len(ITEMS)
    assert {p.suffix for p in lab.images.images_dir.iterdir()} == {".webp"}  # stored as uploaded
    return lab


@pytest.fixture
def prompt() -> PromptVersion:
    return PromptVersion(name="appearance", version=1, facets=["colour", "material"],
                         template="Describe the colour and material of this product in {max_words} words.")


def serve(dialect: str) -> FakeLVLMServer:
    return FakeLVLMServer(dialect=dialect)


def run(lab: Lab, prompt: PromptVersion, server: FakeLVLMServer, provider: str = "openai") -> RunReport:
    base_url = server.base_url_openai if provider == "openai" else server.base_url_anthropic
    return run_prompt(lab, prompt, provider, model=MODELS[provider], base_url=base_url, concurrency=3)


def colours(lab: Lab, provider: str = "openai") -> list[list[str]]:
    descs = lab.store.descriptions(provider=provider, model=MODELS[provider]).sort_values("text")
    return [sorted(json.loads(a)["colour"]) for a in descs["attributes"]]


@pytest.mark.parametrize(("provider", "dialect"), [
    ("openai", "openai"), ("openai", "lmstudio"), ("openai", "llamacpp"), ("openai", "fenced-json"),
    ("openai", "prose-json"), ("openai", "streaming-only"), ("anthropic", "openai"), ("anthropic", "streaming-only"),
])
def test_a_run_completes_in_every_dialect(shop: Lab, prompt: PromptVersion, provider: str, dialect: str) -> None:
    with serve(dialect) as server:
        report = run(shop, prompt, server, provider)
    assert (report.calls, report.failed) == (len(ITEMS), 0), report.errors
    assert sorted(c for [c] in colours(shop, provider)) == sorted(ITEMS)
    assert report.representation
    sent = [r.image for r in server.requests]
    assert sent and all(s == "JPEG 1568x1045" for s in sent)  # WebP transcoded, downscaled to the long side


def test_ollama_ignoring_the_schema_still_gives_descriptions(shop: Lab, prompt: PromptVersion) -> None:
    """Prose around JSON whose facets are comma-joined strings and {"name": ...} items."""
    with serve("ollama") as server:
        report = run(shop, prompt, server)
    assert (report.calls, report.failed) == (len(ITEMS), 0), report.errors
    assert sorted(colours(shop)) == sorted([c, "white"] for c in ITEMS)  # "red, white" -> ["red", "white"]
    assert len(server.requests) == len(ITEMS)  # read leniently: no re-ask was needed


def test_llamacpp_refuses_webp_which_is_why_images_are_transcoded(shop: Lab) -> None:
    [path] = list(shop.images.images_dir.glob("*.webp"))[:1]
    with serve("llamacpp") as server:
        client = openai.OpenAI(base_url=server.base_url_openai, api_key="not-needed", max_retries=0)
        data = base64.b64encode(path.read_bytes()).decode()
        with pytest.raises(openai.BadRequestError, match="Failed to load image or audio file"):
            client.chat.completions.create(model="llava", messages=[{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/webp;base64,{data}"}},
                {"type": "text", "text": "Describe it."}]}])


def test_llamacpp_refusing_a_schema_it_cannot_turn_into_a_grammar_moves_down_the_ladder(
        shop: Lab, prompt: PromptVersion, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = output_json_schema()
    schema["properties"]["attributes"]["properties"]["colour"]["uniqueItems"] = True
    monkeypatch.setattr(openai_provider, "output_json_schema", lambda: schema)
    with serve("llamacpp") as server:
        report = run(shop, prompt, server)
    assert (report.calls, report.failed) == (len(ITEMS), 0), report.errors
    assert [r.structured for r in server.requests] == ["json_schema"] + ["json_object"] * len(ITEMS)


def test_lmstudio_refusing_json_object_is_named_with_the_setting_to_change(tmp_path: Path,
                                                                           prompt: PromptVersion) -> None:
    path = tmp_path / "red.png"
    Image.new("RGB", (32, 32), COLOURS["red"]).save(path)
    with serve("lmstudio") as server:
        describer = OpenAIDescriber(model="qwen2-vl", base_url=server.base_url_openai, structured_mode="json_object")
        with pytest.raises(ProviderError, match="HTTP 400: 'response_format.type' must be 'json_schema' or 'text'; "
                                                "this server rejects json_object; set the connection's "
                                                "structured_mode to prompt"):
            describer.describe(ImageRef("a" * 64, path), prompt)
        probing = OpenAIDescriber(model="qwen2-vl", base_url=server.base_url_openai)
        assert probing.describe(ImageRef("a" * 64, path), prompt).ok
    assert probing.structured_mode == "json_schema"  # what LM Studio accepts


@pytest.mark.parametrize("dialect", ["fenced-json", "prose-json", "ollama"])
def test_anthropic_compatible_servers_in_prompt_mode_are_read_leniently(tmp_path: Path, prompt: PromptVersion,
                                                                         dialect: str) -> None:
    path = tmp_path / "red.png"
    Image.new("RGB", (32, 32), COLOURS["red"]).save(path)
    with serve(dialect) as server:
        describer = AnthropicDescriber(base_url=server.base_url_anthropic, structured_mode="prompt")
        desc = describer.describe(ImageRef("a" * 64, path), prompt)
    assert desc.ok and "red" in desc.attributes.colour
    assert [r.structured for r in server.requests] == [""]  # no tool: the schema went in the prompt


def test_a_web_page_at_the_base_url_fails_every_item_and_the_cli_names_the_fix(
        shop: Lab, prompt: PromptVersion, capsys: pytest.CaptureFixture[str]) -> None:
    with serve("html-200") as server:
        report = run(shop, prompt, server)
        assert (report.calls, report.failed) == (len(ITEMS), len(ITEMS))
        assert all("answered with an HTML page" in e for _, e in report.errors)
        code = main(["describe", "--workspace", str(shop.workspace.root), "--provider", "openai", "--model", "other",
                     "--base-url", server.base_url_openai, "--prompt", "preference"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"all {len(ITEMS)} items failed; most common error ({len(ITEMS)} of {len(ITEMS)})" in err
    assert "likely fix: the base URL is not the API: use the server's OpenAI-compatible address" in err
