"""Untrusted text stays text: every string a Markdown-rendering element shows is a literal, or goes through
ui.text.plain. A grep over the skin (pages/, ui/, app.py) that fails on any other use."""

import ast
import re
from pathlib import Path

import pandas as pd

from core.safe_text import WORD_JOINER
from ui.text import plain, safe_frame

ROOT = Path(__file__).resolve().parents[2]
RENDERS_MARKDOWN = {"markdown", "caption", "info", "warning", "success", "error", "toast", "subheader", "header",
                    "title", "write", "expander", "popover", "badge"}
LABELLED = {"button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "text_input", "text_area",
            "number_input", "slider", "select_slider", "metric", "download_button", "link_button", "page_link",
            "form_submit_button", "segmented_control", "pills", "file_uploader", "date_input", "color_picker"}
"""Widgets whose first argument is a label Streamlit renders as Markdown."""
MARKDOWN_KEYWORDS = {"caption", "help", "label"}
SAFE_CALLS = {"plain", "len", "int", "float", "round", "sum", "min", "max"}


def _safe(node: ast.AST) -> bool:
    """A literal, an UPPER_CASE constant, plain(...), a number-making call, or an f-string of those / of
    formatted numbers."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Call):
        fn = node.func
        return (isinstance(fn, ast.Name) and fn.id in SAFE_CALLS) or (
            isinstance(fn, ast.Attribute) and fn.attr in SAFE_CALLS)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (
            isinstance(v, ast.FormattedValue) and (v.format_spec is not None or _safe(v.value))) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    return False


def unescaped_uses() -> list[str]:
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            shown = list(node.args[:1]) if node.func.attr in RENDERS_MARKDOWN | LABELLED else []
            shown += [k.value for k in node.keywords if k.arg in MARKDOWN_KEYWORDS]
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}: {ast.unparse(arg)[:80]}"
                      for arg in shown if not _safe(arg)]
    return found


def test_every_markdown_element_gets_literal_or_escaped_text():
    assert unescaped_uses() == []


def unsafe_tables() -> list[str]:
    """st.dataframe calls whose table is not a safe_frame copy (its toolbar downloads CSV a spreadsheet would run)."""
    found = []
    for path in [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "dataframe" and node.args):
                continue
            table = node.args[0]
            if not (isinstance(table, ast.Call) and isinstance(table.func, ast.Name) and table.func.id == "safe_frame"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_read_only_table_is_shown_formula_safe():
    assert unsafe_tables() == []
    shown = safe_frame(pd.DataFrame({"title": ["=HYPERLINK(\"http://x\")", "-12.5", "Linen shirt"], "n": [1, -2, 3]}))
    assert shown["title"].tolist() == ["'=HYPERLINK(\"http://x\")", "-12.5", "Linen shirt"]
    assert shown["n"].tolist() == [1, -2, 3]


def test_plain_neutralises_links_images_latex_and_colour_directives():
    hostile = "![x](http://127.0.0.1:9/leak) [click](http://x) $x^2$ :red[alert] **bold** <b>tag</b>"
    escaped = plain(hostile)
    assert re.search(r"(?<!\\)[\[\]()$*<>:!]", escaped) is None  # every active character is escaped
    assert escaped.replace("\\", "").replace(WORD_JOINER, "") == hostile  # the same characters, shown literally
