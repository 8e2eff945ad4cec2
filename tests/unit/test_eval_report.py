"""Evidence sections: a bench rewrites only its own section of EVALUATION.md."""

from core.evaluation.report import write_section


def test_write_section_replaces_only_its_own_block(tmp_path):
    path = tmp_path / "EVALUATION.md"
    path.write_text("# Evaluation\n\nHand-written protocol notes.\n")
    write_section(path, "sample", "Sample", "first body")
    write_section(path, "movielens", "MovieLens", "ml body")
    write_section(path, "sample", "Sample", "second body")
    text = path.read_text()
    assert text.startswith("# Evaluation\n\nHand-written protocol notes.\n")
    assert "second body" in text and "first body" not in text and "ml body" in text
    assert text.count("<!-- sample:start -->") == 1 and text.index("sample:start") < text.index("movielens:start")
    assert "Machine: " in text and "numpy" in text
