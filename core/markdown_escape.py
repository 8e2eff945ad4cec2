"""The one Markdown-escaping rule: untrusted text (titles, SKUs, file names, model output) shown on a page
(ui.text.plain) or written into a Markdown report stays literal, never a link, image, table cell or directive."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape_markdown(value: object) -> str:
    """The value as text with every character Markdown (or Streamlit's directives) could act on backslash-escaped;
    newlines are left to the caller: a line break on a page, a space in a table cell."""
    return _SPECIAL.sub(r"\\\1", str(value))
