"""A local stand-in for the OpenAI and Anthropic LVLM APIs, with fault injection for tests and demos.

Besides chat completions and messages it serves OpenAI Files + Batches and Anthropic Message Batches
(with the real per-batch limits), and GET /_fake/stats (request count, answered image hashes) for tests
that drive it from another process. A `dialect` makes it answer as a real local server does (DIALECTS), and
one-shot faults (FAULTS) make single replies misbehave. In the `simulated` reply mode (SimulatedTruth) it answers as
the simulated LVLM would, so the real SDK path runs with the accuracy dial too.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image, ImageStat

from core.models import FACETS

FAULTS = ("401", "429", "500", "503", "malformed_json", "schema_invalid", "refusal", "oversize", "timeout",
          "reset", "plain_text", "text_400", "null_usage", "no_usage", "max_tokens", "key_echo")
DIALECTS = {
    "openai": "the hosted APIs' behaviour (the default)",
    "lmstudio": "LM Studio: HTTP 400 for response_format json_object; errors as {\"error\": \"<text>\"}",
    "ollama": "Ollama ignoring the schema: prose around loosely shaped JSON",
    "llamacpp": "llama.cpp's server: no WebP images; a json_schema must convert to a grammar",
    "fenced-json": "the JSON inside ```json fences",
    "prose-json": "the JSON inside a sentence of prose",
    "streaming-only": "every answer as a server-sent event stream, asked for or not",
    "html-200": "a web UI at the base URL: HTTP 200 with an HTML page",
}
HTML_PAGE = ("<!doctype html><html><head><title>Open WebUI</title></head>"
             "<body><div id=\"app\">Loading...</div></body></html>")
# JSON-schema keywords llama.cpp's json_schema_to_grammar converts; anything else fails the request.
GRAMMAR_KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
    "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "pattern", "format", "minLength",
    "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "description", "title", "default",
    "examples", "$schema", "$id"})
_SSE_PIECE = 40  # characters per streamed delta
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error", 500: "api_error", 503: "overloaded_error"}
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})
_DATA_URL = re.compile(r"^data:image/[\w.+-]+;base64,(?P<data>.*)$", re.S)
_FACET_WORDS = {f: re.compile(rf"\b{f.replace('_', '[ _]')}\b", re.I) for f in FACETS}

_PALETTE = {
    "black": (25, 25, 25), "white": (240, 240, 240), "grey": (128, 128, 128), "red": (200, 30, 30),
    "orange": (235, 135, 30), "yellow": (235, 215, 40), "green": (40, 150, 60), "blue": (40, 90, 210),
    "navy": (20, 30, 90), "purple": (120, 50, 160), "pink": (240, 150, 190), "brown": (115, 70, 35),
    "beige": (220, 200, 160),
}
_VOCAB = {
    "style": ("minimalist", "classic", "bohemian", "sporty", "streetwear", "vintage"),
    "material": ("cotton", "leather", "wool", "linen", "denim", "ceramic", "oak wood"),
    "pattern": ("striped", "checked", "floral", "geometric"),
    "usage_context": ("everyday commute", "home lounging", "outdoor weekend", "office work", "travel"),
    "occasion": ("casual outing", "evening party", "wedding guest", "business meeting", "holiday gift"),
}


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next request."""

    kind: str
    retry_after: float | None = None  # seconds, sent as retry-after-ms (both SDKs honour values > 0)
    delay_s: float = 5.0  # how long a "timeout" fault stalls before dropping the connection


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    model: str
    headers: dict[str, str]
    fault: str | None
    text: str = ""  # every text part of the conversation (prompt, re-ask, tool results), joined
    structured: str = ""  # response_format type, "tool" for a forced tool call, "" for neither
    image: str = ""  # the last image's format and size as decoded, e.g. "JPEG 1568x1045"
    stream: bool = False


class BadRequest(Exception):
    """The request is not what the real API would accept; answered with HTTP 400."""


class _OpenAIWire:
    """POST /v1/chat/completions."""

    @staticmethod
    def inputs(body: dict) -> tuple[str | None, str]:
        image_url, texts = None, []
        for message in body.get("messages") or []:
            content = message.get("content")
            parts: list[dict] = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for part in parts:
                if part.get("type") == "image_url":
                    image_url = (part.get("image_url") or {}).get("url")
                elif part.get("type") == "text":
                    texts.append(part.get("text") or "")
        if image_url is None:
            return None, "\n".join(texts)
        match = _DATA_URL.match(image_url)
        if not match:
            raise BadRequest("image_url must be a base64 image data URL (data:image/...;base64,...)")
        return match["data"], "\n".join(texts)

    @staticmethod
    def error(status: int, message: str) -> dict:
        return {"error": {"message": message, "type": _ERROR_TYPES.get(status, "api_error"),
                          "param": None, "code": None}}

    @staticmethod
    def reply(body: dict, n: int, output: dict | str | None, refusal: str | None, usage: tuple[int, int]) -> dict:
        content = output if isinstance(output, str | None) else json.dumps(output)
        return {
            "id": f"chatcmpl-fake-{n}", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        }

    @staticmethod
    def cut_off(reply: dict) -> None:
        """As if max_tokens ran out mid-answer."""
        choice = reply["choices"][0]
        choice["finish_reason"] = "length"
        choice["message"]["content"] = (choice["message"]["content"] or "")[:60]

    @staticmethod
    def sse(body: dict, reply: dict) -> bytes:
        """The reply as chat.completion.chunk events; usage last, when stream_options.include_usage asks for it."""
        head = {"id": reply["id"], "object": "chat.completion.chunk", "created": 0, "model": reply["model"]}
        choice = reply["choices"][0]
        content = choice["message"]["content"] or ""
        deltas = [{"role": "assistant", "content": ""}]
        deltas += [{"content": content[i:i + _SSE_PIECE]} for i in range(0, len(content), _SSE_PIECE)]
        events = [head | {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append(head | {"choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]})
        if (body.get("stream_options") or {}).get("include_usage") and reply.get("usage"):
            events.append(head | {"choices": [], "usage": reply["usage"]})
        return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


class _AnthropicWire:
    """POST /v1/messages; answers a forced tool call with a tool_use block, otherwise with JSON text."""

    @staticmethod
    def inputs(body: dict) -> tuple[str | None, str]:
        image_b64, texts = None, []
        for message in body.get("messages") or []:
            content = message.get("content")
            blocks: list[dict] = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for block in blocks:
                if block.get("type") == "image":
                    source = block.get("source") or {}
                    if source.get("type") != "base64":
                        raise BadRequest("image source must be base64")
                    image_b64 = source.get("data") or ""
                elif block.get("type") == "text":
                    texts.append(block.get("text") or "")
                elif block.get("type") == "tool_result":
                    inner = block.get("content")
                    texts.extend([inner] if isinstance(inner, str) else [b.get("text") or "" for b in inner or []])
        return image_b64, "\n".join(texts)

    @staticmethod
    def error(status: int, message: str) -> dict:
        return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}

    @staticmethod
    def reply(body: dict, n: int, output: dict | str | None, refusal: str | None, usage: tuple[int, int]) -> dict:
        choice = body.get("tool_choice") or {}
        tool = choice.get("name") if choice.get("type") == "tool" else None
        content: list[dict[str, object]]
        if refusal is not None:
            content, stop = [{"type": "text", "text": refusal}], "refusal"
        elif tool:
            content, stop = [{"type": "tool_use", "id": f"toolu_fake_{n}", "name": tool, "input": output}], "tool_use"
        else:
            text = output if isinstance(output, str) else json.dumps(output)
            content, stop = [{"type": "text", "text": text}], "end_turn"
        return {
            "id": f"msg_fake_{n}", "type": "message", "role": "assistant", "model": body.get("model", ""),
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }

    @staticmethod
    def cut_off(reply: dict) -> None:
        """As if max_tokens ran out mid-answer: a tool input keeps only its first field, half written."""
        reply["stop_reason"] = "max_tokens"
        for block in reply["content"]:
            if block["type"] == "tool_use" and isinstance(block["input"], dict):
                first = next(iter(block["input"]), "description")
                block["input"] = {first: str(block["input"].get(first, ""))[:30]}
            elif block["type"] == "text":
                block["text"] = block["text"][:60]

    @staticmethod
    def sse(body: dict, reply: dict) -> bytes:
        """The message as Messages-API stream events, tool input and text in pieces."""
        usage = reply.get("usage") or {}
        events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": reply | {
            "content": [], "stop_reason": None, "usage": {"input_tokens": usage.get("input_tokens", 0),
                                                          "output_tokens": 1}}})]
        for i, block in enumerate(reply["content"]):
            tool = block["type"] == "tool_use"
            start: dict[str, Any] = {**block, **({"input": {}} if tool else {"text": ""})}
            whole = json.dumps(block["input"]) if tool else block["text"]
            kind, key = ("input_json_delta", "partial_json") if tool else ("text_delta", "text")
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": start}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": i,
                                                 "delta": {"type": kind, key: whole[j:j + _SSE_PIECE]}})
                       for j in range(0, len(whole), _SSE_PIECE)]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": reply["stop_reason"],
                                                                            "stop_sequence": None},
                                         "usage": {"output_tokens": usage.get("output_tokens", 0)}}))
        events.append(("message_stop", {"type": "message_stop"}))
        return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


_ROUTES: dict[str, type[_OpenAIWire] | type[_AnthropicWire]] = {
    "/chat/completions": _OpenAIWire, "/messages": _AnthropicWire,
}


def describe_image(raw: bytes, prompt_text: str) -> dict:
    """Deterministic 'model output': mean colour names the colour, the image hash picks the rest."""
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    stat = ImageStat.Stat(image)
    digest = hashlib.sha256(raw).digest()
    mean = stat.mean
    values = {
        "colour": min(_PALETTE, key=lambda name: sum((a - b) ** 2 for a, b in zip(_PALETTE[name], mean, strict=True))),
        **{facet: vocab[digest[i] % len(vocab)] for i, (facet, vocab) in enumerate(_VOCAB.items())},
    }
    if sum(stat.stddev) / 3 < 12:
        values["pattern"] = "solid"
    wanted = [f for f in FACETS if _FACET_WORDS[f].search(prompt_text)] or list(FACETS)
    text = "; ".join(f"{f.replace('_', ' ')}: {values[f]}" for f in wanted)
    return {"description": f"Fake LVLM description - {text}.",
            "attributes": {f: [values[f]] if f in wanted else [] for f in FACETS}}


class SimulatedTruth:
    """The `simulated` reply mode: answers as core.describe.providers.simulated does, from a catalogue's ground truth;
    the request's model names the accuracy (simulated-p0.75). Facets and word budget are read from the prompt text,
    the only prompt a server sees."""

    def __init__(self, items: dict[str, tuple[str, dict[str, str]]]) -> None:
        self.items = items  # sha256 of the image bytes a request carries -> (the item's image sha, its columns)

    @classmethod
    def from_catalog(cls, csv_path: Path) -> SimulatedTruth:
        """Every row of a metadata CSV (sku,title,category,image,...), keyed by the bytes Vitrine stores and sends."""
        from core.catalog.images import validate_image

        items: dict[str, tuple[str, dict[str, str]]] = {}
        for row in csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))):
            clean = validate_image((csv_path.parent / row["image"]).read_bytes(), row["image"])
            items[hashlib.sha256(clean.data).hexdigest()] = (clean.sha256, row)
        return cls(items)

    def describe(self, raw: bytes, prompt_text: str, model: str) -> dict:
        from core.describe.prompts import DEFAULT_MAX_WORDS
        from core.describe.providers.simulated import accuracy_of, simulate
        from core.errors import VitrineError

        found = self.items.get(hashlib.sha256(raw).hexdigest())
        if found is None:
            raise BadRequest("simulated mode: this image is not in the catalogue the server was given, so it has no "
                             "ground truth")
        named = {f: m.start() for f in FACETS if (m := _FACET_WORDS[f].search(prompt_text))}
        budget = re.search(r"\b(\d+)\s+words\b", prompt_text)
        max_words = int(budget[1]) if budget else DEFAULT_MAX_WORDS
        try:
            text, attributes = simulate(found[1], sorted(named, key=named.__getitem__) or list(FACETS), max_words,
                                        accuracy_of(model), found[0], hashlib.sha256(prompt_text.encode()).hexdigest())
        except VitrineError as exc:  # no such accuracy, or no ground truth for the prompt's facets
            raise BadRequest(str(exc)) from None
        return {"description": text, "attributes": attributes.model_dump()}


def _decode_image(image_b64: str | None) -> bytes:
    if image_b64 is None:
        raise BadRequest("the request contains no image")
    try:
        raw = base64.b64decode(image_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the image is not valid base64") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
    except Exception:
        raise BadRequest("the image data is not a readable image") from None
    return raw


def _complete(wire: type[_OpenAIWire] | type[_AnthropicWire], body: object, kind: str | None,
              n: int, simulated: SimulatedTruth | None = None, dialect: str = "openai") -> tuple[int, dict, str]:
    """(status, reply body, image sha256) for one describe request, after any injected output fault."""
    if not isinstance(body, dict):
        return 400, wire.error(400, "the request body is not a JSON object"), ""
    try:
        image_b64, prompt_text = wire.inputs(body)
        raw = _decode_image(image_b64)
        answer = (describe_image(raw, prompt_text) if simulated is None
                  else simulated.describe(raw, prompt_text, str(body.get("model", ""))))
        output, refusal = _spoil(kind, answer)
    except BadRequest as exc:
        return 400, wire.error(400, str(exc)), ""
    usage = (85 + len(prompt_text) // 4, max(1, len(json.dumps(output)) // 4))
    if isinstance(output, dict) and isinstance(output.get("attributes"), dict):  # not spoiled by a fault
        output = _in_dialect(dialect, output, tool_call=(body.get("tool_choice") or {}).get("type") == "tool")
    reply = wire.reply(body, n, output, refusal, usage)
    if kind == "max_tokens":
        wire.cut_off(reply)
    elif kind == "null_usage":
        reply["usage"] = None
    elif kind == "no_usage":
        del reply["usage"]
    return 200, reply, hashlib.sha256(raw).hexdigest()


def _in_dialect(dialect: str, output: dict, *, tool_call: bool) -> dict | str:
    """The model's answer as a dialect's model writes it: text for the text dialects (a tool input stays JSON)."""
    if dialect == "ollama":  # ignores the schema: comma-joined strings, {"name": ...} items, prose around
        attributes: dict[str, object] = {f: ", ".join(v + (["white"] if f == "colour" and v else []))
                                         for f, v in output["attributes"].items()}
        attributes["material"] = [{"name": m} for m in output["attributes"].get("material", [])]
        loose = {"description": output["description"], "attributes": attributes, "confidence": 0.9}
        if tool_call:
            return loose
        return f"Here is the description of the product:\n\n{json.dumps(loose, indent=2)}\n\nI hope this helps!"
    if tool_call:
        return output
    if dialect == "fenced-json":
        return f"```json\n{json.dumps(output, indent=2)}\n```"
    if dialect == "prose-json":
        return f"Sure! Here is the JSON you asked for: {json.dumps(output)} Let me know if you need anything else."
    return output


def _dialect_refusal(dialect: str, wire: type[_OpenAIWire] | type[_AnthropicWire],
                     body: object) -> tuple[int, object] | None:
    """(status, body) when this dialect's server refuses the request before generating."""
    if wire is not _OpenAIWire or not isinstance(body, dict):
        return None
    response_format = body.get("response_format") or {}
    if dialect == "lmstudio" and response_format.get("type") not in (None, "json_schema", "text"):
        return 400, {"error": "'response_format.type' must be 'json_schema' or 'text'"}
    if dialect == "llamacpp":
        llama_error = {"code": 400, "type": "invalid_request_error"}
        if _peek_image(_OpenAIWire, body).startswith("WEBP"):
            return 400, {"error": llama_error | {"message": "Failed to load image or audio file"}}
        schema = (response_format.get("json_schema") or {}).get("schema")
        unsupported = _grammar_problem(schema) if response_format.get("type") == "json_schema" else None
        if unsupported:
            return 400, {"error": llama_error | {"message": f"JSON schema conversion failed: unsupported keyword "
                                                            f"{unsupported!r}"}}
    return None


def _grammar_problem(schema: object) -> str | None:
    """The first keyword of a JSON schema that llama.cpp cannot turn into a grammar, if any."""
    if not isinstance(schema, dict):
        return None if schema is None or isinstance(schema, bool) else repr(schema)
    for key, value in schema.items():
        if key not in GRAMMAR_KEYWORDS:
            return key
        children = (list(value.values()) if key in ("properties", "$defs", "definitions") else
                    value if key in ("anyOf", "oneOf", "allOf", "prefixItems") else
                    [value] if key in ("items", "additionalProperties") else [])
        for child in children:
            if (problem := _grammar_problem(child)) is not None:
                return problem
    return None


def _peek_image(wire: type[_OpenAIWire] | type[_AnthropicWire] | None, body: object) -> str:
    """The request's image format and size from its header ("" when it has none or it is unreadable)."""
    if wire is None or not isinstance(body, dict):
        return ""
    try:
        image_b64, _ = wire.inputs(body)
        with Image.open(io.BytesIO(base64.b64decode(image_b64 or "", validate=True))) as image:
            return f"{image.format} {image.width}x{image.height}"
    except Exception:
        return ""


def _spoil(kind: str | None, output: dict) -> tuple[dict | str | None, str | None]:
    """Apply an output-level fault: (model output, refusal text)."""
    if kind == "malformed_json":
        return json.dumps(output)[:40], None
    if kind == "schema_invalid":
        return {"caption": output["description"], "attributes": "none"}, None
    if kind == "refusal":
        return None, "I'm sorry, but I can't help with describing this image."
    if kind == "oversize":  # a runaway generation: thousands of words where the prompt asked for dozens
        return {**output, "description": " ".join([output["description"]] * 400)}, None
    return output, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle + delayed ACK would add ~40 ms
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request logging; tests read FakeLVLMServer.requests instead."""

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in _BATCH_POSTS:
            self._batch(path)
            return
        answer = self._answer()
        if answer is None:
            self._drop()
        else:
            self._send(*answer)

    def do_GET(self) -> None:
        self._batch(self.path.split("?", 1)[0])

    def _batch(self, path: str) -> None:
        """Files, Batches and Message Batches endpoints: bookkeeping only, no latency or faults per call."""
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if not path.startswith("/_fake/"):
            self.server.fake.record(path, None, dict(self.headers), consume_fault=False)
        status, payload, ctype = self.server.fake.batches.handle(self.command, path, body,
                                                                 self.headers.get("content-type", ""))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> tuple[int, object, dict[str, str]] | None:
        """(status, body, extra headers) for this request, or None to drop the connection. A dict body goes out as
        JSON; bytes (an event stream) or str (a page) go out as they are, with the content type in the headers."""
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        wire = _ROUTES.get(path.removeprefix("/v1"))
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        except json.JSONDecodeError:
            body = None
        fault, n = fake.record(path, body, dict(self.headers))
        kind = fault.kind if fault else None
        if wire is None:
            return 404, {"error": {"message": f"unknown path {path}"}}, {}
        if fake.pause(fake.latency_s) or kind == "reset":
            return None
        if fault is not None and fault.kind == "timeout":
            fake.pause(fault.delay_s)  # longer than the client waits, then hang up
            return None
        if fault is not None and fault.kind.isdigit():
            status = int(fault.kind)
            headers = {} if fault.retry_after is None else {"retry-after-ms": str(int(fault.retry_after * 1000))}
            return status, wire.error(status, f"injected fault {status}"), headers
        if fake.dialect == "html-200" or kind == "plain_text":
            page = HTML_PAGE if fake.dialect == "html-200" else "OK - the upstream model is still loading"
            return 200, page, {"content-type": "text/html" if fake.dialect == "html-200" else "text/plain"}
        if kind == "text_400":
            return 400, "Bad Request: model is not loaded", {"content-type": "text/plain"}
        if kind == "key_echo":  # as some proxies do: the rejected credential, minus its last characters
            sent = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
            return 400, wire.error(400, f"malformed credential {sent[:-2]!r} for this deployment"), {}
        refused = _dialect_refusal(fake.dialect, wire, body)
        if refused is not None:
            return *refused, {}
        status, reply, sha = _complete(wire, body, kind, n, fake.simulated, fake.dialect)
        if status == 200:
            fake.answered(sha)
            if fake.dialect == "streaming-only" or (isinstance(body, dict) and body.get("stream")):
                return 200, wire.sse(body, reply), {"content-type": "text/event-stream"}
        return status, reply, {}

    def _send(self, status: int, payload: object, headers: dict[str, str]) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode() if isinstance(payload, str) else \
            json.dumps(payload).encode()
        headers = {"content-type": "application/json"} | headers
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close without answering; SO_LINGER 0 turns the close into a TCP reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


_BATCH_POSTS = frozenset({"/v1/files", "/v1/batches", "/v1/messages/batches"})
_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
OPENAI_BATCH_LIMITS = (50_000, 200 * 1024**2)  # requests, bytes per input file
ANTHROPIC_BATCH_LIMITS = (100_000, 256 * 1024**2)  # requests, bytes per create request
ANTHROPIC_RESULTS_TTL = timedelta(days=29)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def _multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, bytes) of a multipart/form-data body (what the SDK's files.create sends)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    form: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name, data = part.get_param("name", header="content-disposition"), part.get_payload(decode=True)
        if isinstance(name, str):
            form[name] = (part.get_filename(), data if isinstance(data, bytes) else b"")
    return form


class _Batches:
    """OpenAI Files + Batches and Anthropic Message Batches, processed in a background thread per batch."""

    def __init__(self, fake: FakeLVLMServer) -> None:
        self.fake = fake
        self.files: dict[str, dict] = {}
        self.contents: dict[str, bytes] = {}
        self.openai: dict[str, dict] = {}
        self.anthropic: dict[str, dict] = {}
        self.results: dict[str, bytes] = {}
        self.created: list[str] = []  # batch ids in creation order, both providers
        self._lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))

    def _id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):06d}"

    def handle(self, method: str, path: str, body: bytes, content_type: str) -> tuple[int, dict | bytes, str]:
        """(status, JSON or raw bytes, content type)."""
        js = "application/json"
        if method == "GET" and path == "/_fake/stats":
            return 200, {"requests": len(self.fake.requests), "answered_images": self.fake.answered_images}, js
        if method == "POST" and path == "/v1/files":
            return 200, self._upload(body, content_type), js
        if method == "POST" and path == "/v1/batches":
            return self._openai_create(json.loads(body or b"{}"))
        if method == "POST" and path == "/v1/messages/batches":
            return self._anthropic_create(body)
        parts = path.strip("/").split("/")
        with self._lock:
            if parts[:2] == ["v1", "batches"] and len(parts) == 3 and parts[2] in self.openai:
                return 200, dict(self.openai[parts[2]]), js
            if parts[:2] == ["v1", "files"] and len(parts) == 4 and parts[3] == "content" and parts[2] in self.contents:
                return 200, self.contents[parts[2]], "application/octet-stream"
            if parts[:3] == ["v1", "messages", "batches"] and len(parts) >= 4 and parts[3] in self.anthropic:
                batch = self.anthropic[parts[3]]
                if len(parts) == 4:
                    return 200, {k: v for k, v in batch.items() if not k.startswith("_")}, js
                if len(parts) == 5 and parts[4] == "results" and batch["processing_status"] == "ended":
                    if datetime.now(UTC) > batch["_created"] + ANTHROPIC_RESULTS_TTL:
                        return 404, _AnthropicWire.error(404, "the results of this batch have expired"), js
                    return 200, self.results[parts[3]], "application/binary"
        return 404, {"error": {"message": f"unknown path {path}", "type": "not_found_error"}}, js

    def backdate(self, batch_id: str, days: float) -> None:
        """Pretend a Message Batch was created `days` earlier (to test the results-expiry warning)."""
        with self._lock:
            batch = self.anthropic[batch_id]
            batch["_created"] -= timedelta(days=days)
            batch["created_at"] = _iso(batch["_created"])
            batch["expires_at"] = _iso(batch["_created"] + timedelta(hours=24))

    # --- OpenAI ------------------------------------------------------------------------------
    def _upload(self, body: bytes, content_type: str) -> dict:
        form = _multipart(body, content_type)
        filename, data = form.get("file", (None, b""))
        purpose = form.get("purpose", (None, b""))[1].decode()
        return self._store_file(data, filename or "upload.jsonl", purpose)

    def _store_file(self, data: bytes, filename: str, purpose: str) -> dict:
        now = int(time.time())
        file: dict[str, Any] = {
            "id": self._id("file-"), "object": "file", "bytes": len(data), "created_at": now, "filename": filename,
            "purpose": purpose, "status": "processed", "expires_at": now + 30 * 86400}
        with self._lock:
            self.files[file["id"]] = file
            self.contents[file["id"]] = data
        return file

    def _openai_create(self, body: dict) -> tuple[int, dict, str]:
        file_id = body.get("input_file_id", "")
        if file_id not in self.files:
            return 404, _OpenAIWire.error(404, f"no file {file_id}"), "application/json"
        now = int(time.time())
        batch = {"id": self._id("batch_"), "object": "batch", "endpoint": body.get("endpoint"),
                 "input_file_id": file_id, "completion_window": body.get("completion_window"),
                 "status": "in_progress", "created_at": now, "in_progress_at": now, "expires_at": now + 86400,
                 "metadata": body.get("metadata"), "request_counts": {"total": 0, "completed": 0, "failed": 0}}
        data = self.contents[file_id]
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
        problems = self._openai_problems(body, self.files[file_id], data, lines)
        if problems:
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [
                {"code": "invalid_request", "message": m, "line": None, "param": None} for m in problems]})
        with self._lock:
            self.openai[batch["id"]] = batch
            self.created.append(batch["id"])
        if not problems:
            self._later(lambda: self._openai_run(batch["id"], lines))
        return 200, dict(batch), "application/json"

    @staticmethod
    def _openai_problems(body: dict, file: dict, data: bytes, lines: list[dict]) -> list[str]:
        max_requests, max_bytes = OPENAI_BATCH_LIMITS
        problems = []
        if file["purpose"] != "batch":
            problems.append(f"the input file's purpose is {file['purpose']!r}, not 'batch'")
        if len(lines) > max_requests:
            problems.append(f"{len(lines)} requests; a batch file holds at most {max_requests}")
        if len(data) > max_bytes:
            problems.append(f"{len(data)} bytes; a batch file is at most {max_bytes}")
        ids = [line.get("custom_id") for line in lines]
        if len(set(ids)) != len(ids):
            problems.append("custom_id values must be unique within a batch")
        if any(line.get("url") != body.get("endpoint") or line.get("method") != "POST" for line in lines):
            problems.append("every line must POST to the batch's endpoint")
        if len({line.get("body", {}).get("model") for line in lines}) > 1:
            problems.append("every line must use the same model")
        return problems

    def _openai_run(self, batch_id: str, lines: list[dict]) -> None:
        out: list[str] = []
        err: list[str] = []
        for i, line in enumerate(lines, 1):
            status, reply = self._line(_OpenAIWire, line.get("body"))
            record = {"id": f"batch_req_{i}", "custom_id": line["custom_id"],
                      "response": {"status_code": status, "request_id": f"req_{i}", "body": reply},
                      "error": None}
            (out if status == 200 else err).append(json.dumps(record))
        now = int(time.time())
        updates = {"status": "completed", "completed_at": now, "finalizing_at": now,
                   "request_counts": {"total": len(lines), "completed": len(out), "failed": len(err)}}
        for key, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                updates[key] = self._store_file(("\n".join(rows) + "\n").encode(), f"{batch_id}_{key}.jsonl",
                                                "batch_output")["id"]
        with self._lock:
            self.openai[batch_id].update(updates)

    # --- Anthropic ---------------------------------------------------------------------------
    def _anthropic_create(self, raw: bytes) -> tuple[int, dict, str]:
        js = "application/json"
        max_requests, max_bytes = ANTHROPIC_BATCH_LIMITS
        if len(raw) > max_bytes:
            return 413, {"type": "error", "error": {"type": "request_too_large",
                                                    "message": f"{len(raw)} bytes; the limit is {max_bytes}"}}, js
        requests = json.loads(raw or b"{}").get("requests") or []
        ids = [r.get("custom_id", "") for r in requests]
        if not requests or len(requests) > max_requests:
            return 400, _AnthropicWire.error(400, f"a batch holds 1 to {max_requests} requests"), js
        if len(set(ids)) != len(ids) or not all(_ID_PATTERN.match(i) for i in ids):
            return 400, _AnthropicWire.error(400, "custom_id must be unique and match ^[a-zA-Z0-9_-]{1,64}$"), js
        created = datetime.now(UTC)
        batch: dict[str, Any] = {
            "id": self._id("msgbatch_"), "type": "message_batch", "processing_status": "in_progress",
            "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
            "created_at": _iso(created), "expires_at": _iso(created + timedelta(hours=24)), "ended_at": None,
            "archived_at": None, "cancel_initiated_at": None, "results_url": None, "_created": created}
        with self._lock:
            self.anthropic[batch["id"]] = batch
            self.created.append(batch["id"])
        self._later(lambda: self._anthropic_run(batch["id"], requests))
        return 200, {k: v for k, v in batch.items() if not k.startswith("_")}, js

    def _anthropic_run(self, batch_id: str, requests: list[dict]) -> None:
        rows, ok = [], 0
        for request in requests:
            status, reply = self._line(_AnthropicWire, request.get("params"))
            result = {"type": "succeeded", "message": reply} if status == 200 else {"type": "errored", "error": reply}
            ok += status == 200
            rows.append(json.dumps({"custom_id": request["custom_id"], "result": result}))
        with self._lock:
            self.results[batch_id] = ("\n".join(rows) + "\n").encode()
            self.anthropic[batch_id].update(
                processing_status="ended", ended_at=_iso(datetime.now(UTC)),
                request_counts={"processing": 0, "succeeded": ok, "errored": len(rows) - ok, "canceled": 0,
                                "expired": 0},
                results_url=f"{self.fake.root_url}/v1/messages/batches/{batch_id}/results")

    # --- shared --------------------------------------------------------------------------------
    def _line(self, wire: type[_OpenAIWire] | type[_AnthropicWire], body: object) -> tuple[int, dict]:
        """One request inside a batch; queued faults apply per line (an HTTP status fault fails the line)."""
        fault = self.fake.next_fault()
        if fault is not None and fault.kind.isdigit():
            return int(fault.kind), wire.error(int(fault.kind), f"injected fault {fault.kind}")
        status, reply, sha = _complete(wire, body, fault.kind if fault else None, 0, self.fake.simulated)
        if status == 200:
            self.fake.answered(sha)
        return status, reply

    def _later(self, work: Callable[[], None]) -> None:
        """Process after the server's batch delay, off the request thread (batches answer asynchronously)."""

        def run() -> None:
            if not self.fake.pause(self.fake.batch_delay_s):
                work()

        threading.Thread(target=run, name="fake-batch", daemon=True).start()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's default backlog of 5 drops connections when 64 clients connect at once
    fake: FakeLVLMServer

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """A client that hung up (killed mid-request) is routine here; anything else is still printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _seen(path: str, body: object) -> dict[str, Any]:
    """What a test may check of a describe request (text, structured-output mode, image, streaming): never the key,
    and not the image bytes."""
    wire = _ROUTES.get(path.removeprefix("/v1"))
    if wire is None or not isinstance(body, dict):
        return {}
    try:
        _, text = wire.inputs(body)
    except BadRequest:
        text = ""
    response_format = body.get("response_format")
    structured = (response_format.get("type", "") if isinstance(response_format, dict) else
                  "tool" if (body.get("tool_choice") or {}).get("type") == "tool" else "")
    return {"text": text, "structured": structured, "image": _peek_image(wire, body),
            "stream": bool(body.get("stream"))}


class FakeLVLMServer:
    """`with FakeLVLMServer() as srv:` point an SDK at srv.base_url_openai / srv.base_url_anthropic."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_s: float = 0.0,
                 batch_delay_s: float = 0.0, simulated: SimulatedTruth | None = None, dialect: str = "openai") -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; choose one of: {', '.join(DIALECTS)}")
        self.dialect = dialect  # which real server the describe endpoints answer like
        self.latency_s = latency_s  # per-request delay; requests are served concurrently
        self.simulated = simulated  # None: the default deterministic answers; else the simulated LVLM's
        self.batch_delay_s = batch_delay_s  # how long a batch stays in progress before its results appear
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.fake = self
        self._faults: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._answered: list[str] = []
        self._lock = threading.Lock()
        self.batches = _Batches(self)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def base_url_openai(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def base_url_anthropic(self) -> str:
        return self.root_url

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def inject(self, kind: str, *, retry_after: float | None = None, delay_s: float = 5.0) -> None:
        """Queue a fault for the next request (faults are consumed in order, one per request)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose one of: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(Fault(kind, retry_after, delay_s))

    def pause(self, seconds: float) -> bool:
        """Sleep without blocking other requests; True when the server is closing meanwhile."""
        return self._stop.wait(seconds)

    @property
    def answered_images(self) -> list[str]:
        """sha256 of the image in every successfully answered describe request, in order."""
        with self._lock:
            return list(self._answered)

    def answered(self, sha256: str) -> None:
        with self._lock:
            self._answered.append(sha256)

    def next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def record(self, path: str, body: object, headers: dict[str, str],
               consume_fault: bool = True) -> tuple[Fault | None, int]:
        """Record a request and hand it the next queued fault, atomically."""
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
        seen = _seen(path, body)
        with self._lock:
            fault = self._faults.popleft() if self._faults and consume_fault else None
            safe = {k.lower(): v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
            self._requests.append(RecordedRequest(path, model, safe, fault.kind if fault else None, **seen))
            return fault, len(self._requests)

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.05)  # close() waits up to one poll interval

    def start(self) -> FakeLVLMServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-lvlm", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes handlers sleeping on latency or an injected timeout
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLVLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve fake OpenAI/Anthropic LVLM endpoints locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--batch-delay", type=float, default=0.0, help="seconds a batch stays in progress")
    parser.add_argument("--simulated", type=Path, metavar="CSV",
                        help="answer as the simulated LVLM from this catalogue's ground truth (e.g. "
                             "sample_catalog/items.csv); request the model simulated-p<accuracy>")
    parser.add_argument("--dialect", choices=list(DIALECTS), default="openai",
                        help="answer like this server: " + "; ".join(f"{k}: {v}" for k, v in DIALECTS.items()))
    args = parser.parse_args(argv)
    server = FakeLVLMServer(args.host, args.port, latency_s=args.latency, batch_delay_s=args.batch_delay,
                            simulated=SimulatedTruth.from_catalog(args.simulated) if args.simulated else None,
                            dialect=args.dialect)
    print(f"OpenAI base URL:    {server.base_url_openai}\nAnthropic base URL: {server.base_url_anthropic}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
