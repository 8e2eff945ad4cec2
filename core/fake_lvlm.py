"""A local stand-in for the OpenAI and Anthropic LVLM APIs, with fault injection for tests and demos."""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import io
import json
import re
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageStat

from core.models import FACETS

FAULTS = ("401", "429", "500", "503", "malformed_json", "schema_invalid", "refusal", "timeout", "reset")
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


class BadRequest(Exception):
    """The request is not what the real API would accept; answered with HTTP 400."""


class _OpenAIWire:
    """POST /v1/chat/completions."""

    @staticmethod
    def inputs(body: dict) -> tuple[str | None, str]:
        image_url, texts = None, []
        for message in body.get("messages") or []:
            content = message.get("content")
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
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


class _AnthropicWire:
    """POST /v1/messages; answers a forced tool call with a tool_use block, otherwise with JSON text."""

    @staticmethod
    def inputs(body: dict) -> tuple[str | None, str]:
        image_b64, texts = None, []
        for message in body.get("messages") or []:
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for block in blocks:
                if block.get("type") == "image":
                    source = block.get("source") or {}
                    if source.get("type") != "base64":
                        raise BadRequest("image source must be base64")
                    image_b64 = source.get("data") or ""
                elif block.get("type") == "text":
                    texts.append(block.get("text") or "")
        return image_b64, "\n".join(texts)

    @staticmethod
    def error(status: int, message: str) -> dict:
        return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}

    @staticmethod
    def reply(body: dict, n: int, output: dict | str | None, refusal: str | None, usage: tuple[int, int]) -> dict:
        choice = body.get("tool_choice") or {}
        tool = choice.get("name") if choice.get("type") == "tool" else None
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
    except Exception:  # noqa: BLE001 - Pillow raises many types for hostile bytes; all mean "not an image"
        raise BadRequest("the image data is not a readable image") from None
    return raw


def _spoil(kind: str | None, output: dict) -> tuple[dict | str | None, str | None]:
    """Apply an output-level fault: (model output, refusal text)."""
    if kind == "malformed_json":
        return json.dumps(output)[:40], None
    if kind == "schema_invalid":
        return {"caption": output["description"], "attributes": "none"}, None
    if kind == "refusal":
        return None, "I'm sorry, but I can't help with describing this image."
    return output, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging; tests read FakeLVLMServer.requests instead."""

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        answer = self._answer()
        if answer is None:
            self._drop()
        else:
            self._send(*answer)

    def _answer(self) -> tuple[int, dict, dict[str, str]] | None:
        """(status, JSON body, extra headers) for this request, or None to drop the connection."""
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
        if not isinstance(body, dict):
            return 400, wire.error(400, "the request body is not a JSON object"), {}
        try:
            image_b64, prompt_text = wire.inputs(body)
            output, refusal = _spoil(kind, describe_image(_decode_image(image_b64), prompt_text))
        except BadRequest as exc:
            return 400, wire.error(400, str(exc)), {}
        usage = (85 + len(prompt_text) // 4, max(1, len(json.dumps(output)) // 4))
        return 200, wire.reply(body, n, output, refusal, usage), {}

    def _send(self, status: int, payload: dict, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close without answering; SO_LINGER 0 turns the close into a TCP reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLVLMServer


class FakeLVLMServer:
    """`with FakeLVLMServer() as srv:` point an SDK at srv.base_url_openai / srv.base_url_anthropic."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s  # per-request delay; requests are served concurrently
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.fake = self
        self._faults: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

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

    def record(self, path: str, body: object, headers: dict[str, str]) -> tuple[Fault | None, int]:
        """Record a request and hand it the next queued fault, atomically."""
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            safe = {k.lower(): v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
            self._requests.append(RecordedRequest(path, model, safe, fault.kind if fault else None))
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
    args = parser.parse_args(argv)
    server = FakeLVLMServer(args.host, args.port, latency_s=args.latency)
    print(f"OpenAI base URL:    {server.base_url_openai}\nAnthropic base URL: {server.base_url_anthropic}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
