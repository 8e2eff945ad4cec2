"""One Markdown-escaping rule for the page (ui.text.plain) and for the downloadable reports
(core.services.coldstart_report.md): the rule is defined once, in core, and both give the same literal."""

import re
from pathlib import Path

import pytest

from core.safe_text import WORD_JOINER, escape_markdown
from core.services.coldstart_report import md
from ui.text import plain

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["[click](http://evil.example/x.png)", "![img](http://evil.example/p.gif)", "**bold** _it_ `code`",
           "| cell | break |", "# heading", "<script>alert(1)</script>", "$x^2$ :red[alarm] a=b & c~d"]


def test_the_escaping_pattern_is_defined_once_in_core():
    defining = [p.relative_to(ROOT).as_posix() for folder in ("core", "ui", "pages")
                for p in sorted((ROOT / folder).rglob("*.py")) if r"\[\]()#+\-.!|<>~$:=&" in p.read_text("utf-8")]
    assert defining == ["core/safe_text.py"]


@pytest.mark.parametrize("text", HOSTILE)
def test_page_and_report_escape_alike_and_leave_no_special_character_bare(text):
    escaped = escape_markdown(text)
    assert plain(text) == md(text) == escaped
    assert re.sub(r"\\.", "", escaped).replace(WORD_JOINER, "") == re.sub(r"[\\`*_{}\[\]()#+\-.!|<>~$:=&]", "", text)


def test_newlines_stay_line_breaks_on_the_page_and_spaces_in_a_report_cell():
    assert plain("a\nb") == "a  \nb" and md("a\r\nb") == "a  b"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"https://attacker.example/x\",\"open\")", "see www.attacker.example now",
                                  "http://a.example/p.png", "mail ana@shop.example"])
def test_bare_urls_and_addresses_cannot_become_links(text):
    # GFM autolinks these after backslash escapes are resolved (observed: a title's bare URL became a link in the
    # Prompt Lab's image caption); the rendered text no longer holds a trigger, and reads the same
    rendered = re.sub(r"\\(.)", r"\1", escape_markdown(text))
    assert re.search(r"(?i)https?://|www\.|@[\w-]", rendered) is None
    assert rendered.replace(WORD_JOINER, "") == text


@pytest.mark.parametrize("text", ["Recall@10 from the newest report", "NDCG@10", "preference@v2", "@ the fair"])
def test_text_that_cannot_autolink_is_left_as_it_is(text):
    assert WORD_JOINER not in escape_markdown(text)
