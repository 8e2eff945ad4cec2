"""Untrusted text stays text: the one Markdown-escaping rule (pages, Markdown reports) and the one spreadsheet rule
(every exported CSV), for titles, SKUs, file names, CSV cells and model output."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
# GFM links bare URLs and e-mail addresses after escapes are resolved, so a backslash cannot stop it; an invisible
# word joiner between "https:" and "//", "www" and ".", "@" and the domain can.
_AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=\bwww)(?=\.)|(?<=[\w.+-]@)(?=[\w-]+\.[\w-])")
WORD_JOINER = "\u2060"


def escape_markdown(value: object) -> str:
    """The value as text with every character Markdown (or Streamlit's directives) could act on backslash-escaped
    and bare URLs / e-mail addresses kept from becoming links; newlines are left to the caller: a line break on a
    page, a space in a table cell."""
    return _SPECIAL.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, str(value)))


def formula_safe(value: object) -> object:
    """Spreadsheets run text led by = + - @ tab or CR as a formula; a leading apostrophe shows it as text instead.
    A signed number ('-12.5') is not a formula and stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def formula_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV with every cell and header defused, UTF-8 with a BOM so Excel reads accents right."""
    safe = frame.map(formula_safe)
    safe.columns = [formula_safe(c) for c in frame.columns]
    return safe.to_csv(index=False).encode("utf-8-sig")
