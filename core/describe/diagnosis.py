"""Why a whole run failed: the most common error and the fix it most likely needs, in one line a user can act on."""

from __future__ import annotations

import re
from collections import Counter

# First match wins: (what the error says, the likely fix).
FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), fix) for p, fix in (
    (r"this server rejects (json_schema|json_object)",
     "this server rejects {0}: leave the connection's structured_mode empty so Vitrine probes what works, or set a "
     "lower rung (json_object, then prompt)"),
    (r"HTML page|plain text, not an API reply|claims to be JSON",
     "the base URL is not the API: use the server's OpenAI-compatible address (it usually ends in /v1)"),
    (r"item deadline", "the server is stuck or too slow: raise the connection's item_deadline, or check the server"),
    (r"no answer within", "the server is too slow or hung: raise the connection's timeout, lower --concurrency, "
                          "or check the server"),
    (r"could not connect", "start the server, or fix the base URL"),
    (r"rejected the key", "check the API key"),
    (r"cannot read image", "stored image files are missing or damaged: ingest those items again"),
    (r"Failed to load image|readable image|image format",
     "the server cannot decode the images it is sent: try another model or server"),
    (r"cut off at max_tokens", "the model writes too much: lower the prompt's max_words"),
    (r"not valid JSON|does not match the description schema|empty description",
     "the model does not follow the output schema: try a larger model, or a connection with structured_mode prompt"),
    (r"refused", "the model refuses these images: try another model or prompt"),
    (r"rate limited", "lower --concurrency, or wait and run the same command again"),
    (r"HTTP 404", "the model name or the base URL is wrong"),
))
_VARIABLE = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")  # quoted output and numbers differ between items of one cause
_WHO = re.compile(r"^\w+: [\w.-]+:\S*: ")  # "ProviderError: openai:llava:7b: "


def likely_fix(error: str) -> str:
    for pattern, fix in FIXES:
        if match := pattern.search(error):
            return fix.format(*match.groups())
    return "see the errors above"


def explain_failures(errors: list[str]) -> str:
    """'all N items failed; most common error (k of N): ...; likely fix: ...'."""
    if not errors:
        return "no item was described"
    kinds = Counter(_VARIABLE.sub("...", _WHO.sub("", e)) for e in errors)
    kind, count = kinds.most_common(1)[0]
    example = next(e for e in errors if _VARIABLE.sub("...", _WHO.sub("", e)) == kind)
    return (f"all {len(errors)} items failed; most common error ({count} of {len(errors)}): {example[:300]}; "
            f"likely fix: {likely_fix(example)}")
