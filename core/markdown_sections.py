"""Regenerated sections of hand-written Markdown files (EVALUATION.md, BENCHMARKS.md) between comment markers."""

from __future__ import annotations

from pathlib import Path


def splice_section(path: Path, key: str, content: str, new_file_heading: str) -> None:
    """Replace only the text between `<!-- key:start -->` and `<!-- key:end -->`; append the section if absent."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n{content.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {new_file_heading}\n"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
