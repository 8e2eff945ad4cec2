"""Structured output across real servers: the ladder of modes, lenient reading of what models actually return, and
the words of the one re-ask (instructor-style: quote what was wrong, ask again)."""

from __future__ import annotations

import json
import re

from core.describe.providers.errors import InvalidOutput, ProviderError
from core.errors import ConfigError
from core.models import FACETS, output_json_schema

# Strongest first: a strict json_schema response_format, then JSON mode with the schema in the prompt, then the
# schema in the prompt alone. Servers that refuse a rung say so with a 400 naming what they refused.
MODES = ("json_schema", "json_object", "prompt")
_REFUSED_FEATURE = re.compile(r"response_format|json_schema|json_object|schema|grammar|tool_choice|\btools?\b", re.I)
_FENCED = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.S)
_LIST_SEPARATORS = re.compile(r"[,;]")
_ITEM_KEYS = ("name", "value", "label", "text")  # [{"name": "red"}] -> ["red"]
_ALIASES = {"color": "colour", "usage": "usage_context"}  # spellings models use for our facet names
MAX_OBJECT_STARTS = 64  # how many "{" in a reply are tried as the start of the JSON object


def check_mode(mode: object, allowed: tuple[str, ...]) -> str | None:
    """A connection's structured_mode: one of `allowed`, or None (probe the ladder on the first call)."""
    if mode is None or mode in allowed:
        return mode
    raise ConfigError(f"structured_mode must be one of {', '.join(allowed)} (or empty to probe), not {mode!r}")


def schema_instructions() -> str:
    """What the prompt gains when the server is not told the schema through response_format or a tool."""
    return ("\n\nReply with only one JSON object (no prose, no code fences) that matches this JSON schema:\n"
            + json.dumps(output_json_schema(), separators=(",", ":")))


def reask_text(problem: str) -> str:
    """The follow-up turn after an unusable reply: the validation error, quoted, and the schema again."""
    return (f"That reply could not be used: {problem}. Answer again with only the corrected JSON object."
            + schema_instructions())


def rejects_mode(exc: ProviderError) -> bool:
    """A 400/422 whose text names the structured-output feature: a lower rung of the ladder may work."""
    return exc.status in (400, 422) and bool(_REFUSED_FEATURE.search(exc.detail))


def rejection_hint(mode: str, modes: tuple[str, ...]) -> str:
    lower = modes[modes.index(mode) + 1:]
    instead = f"set the connection's structured_mode to {' or '.join(lower)}, or " if lower else ""
    return f"this server rejects {mode}; {instead}leave structured_mode empty so Vitrine probes what works"


def extract_json(text: str) -> object:
    """The first JSON object in a reply: the whole text, inside ``` fences, or embedded in prose."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for block in _FENCED.findall(stripped):
        try:
            return json.loads(block.strip())
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for n, start in enumerate(m.start() for m in re.finditer(r"\{", stripped)):
        if n >= MAX_OBJECT_STARTS:
            break
        try:
            found, _ = decoder.raw_decode(stripped, start)
        except json.JSONDecodeError:
            continue
        if isinstance(found, dict):
            return found
    problem = "the reply holds no JSON object" if "{" not in stripped else "the reply's JSON is not valid"
    raise InvalidOutput(f"{problem}: {stripped[:80]!r}", problem=problem)


def coerce(payload: object) -> object:
    """Fix the shapes models commonly get wrong; anything ambiguous is left for validation to reject."""
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    if _is_number(out.get("description")):
        out["description"] = str(out["description"])
    attributes = out.get("attributes")
    if attributes is None:  # facets at the top level instead of under "attributes"
        lifted = {k: out.pop(k) for k in list(out) if _ALIASES.get(k, k) in FACETS}
        attributes = lifted or None
    if isinstance(attributes, dict):
        out["attributes"] = {_ALIASES.get(k, k): _facet_list(v) for k, v in attributes.items()}
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _facet_list(value: object) -> object:
    """'red, blue' -> ['red', 'blue']; 3 -> ['3']; [{'name': 'red'}] -> ['red']."""
    if isinstance(value, str):
        return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]
    if _is_number(value):
        return [str(value)]
    if isinstance(value, list):
        return [_facet_item(v) for v in value]
    return value


def _facet_item(value: object) -> object:
    if isinstance(value, dict):
        named = [value[k] for k in _ITEM_KEYS if isinstance(value.get(k), str)]
        if named:
            return named[0]
        if len(value) == 1 and isinstance(only := next(iter(value.values())), str):
            return only
    return str(value) if _is_number(value) else value
