"""`vitrine prompt save|list`: versions go into the workspace through the same save path as the Prompt Lab."""

import json

import pytest

from core.cli.main import main
from core.describe.prompts import DEFAULT_PROMPTS_DIR, PromptLibrary


@pytest.fixture
def ws(tmp_path):
    return tmp_path / "ws"


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "preference.txt"
    path.write_text(PromptLibrary().get("preference@v1").template + "\nMention the season.\n")
    return path


def _seeds() -> dict[str, bytes]:
    return {str(p.relative_to(DEFAULT_PROMPTS_DIR)): p.read_bytes() for p in DEFAULT_PROMPTS_DIR.rglob("*.md")}


def test_save_writes_the_next_version_into_the_workspace(ws, template, capsys):
    seeds = _seeds()
    assert main(["prompt", "save", "preference", "--template", str(template), "--note", "adds season",
                 "--workspace", str(ws)]) == 0
    path = ws / "prompts" / "preference" / "v2.md"
    assert capsys.readouterr().out.strip() == f"saved preference@v2: {path}"
    assert _seeds() == seeds
    saved = PromptLibrary(DEFAULT_PROMPTS_DIR, ws / "prompts").get("preference@v2")
    v1 = PromptLibrary().get("preference@v1")
    assert saved.template.endswith("Mention the season.") and saved.summary == "adds season"
    assert (saved.variables, saved.facets, saved.max_words) == (v1.variables, v1.facets, v1.max_words)  # kept


def test_save_a_new_prompt_with_its_own_settings(ws, tmp_path, capsys):
    template = tmp_path / "t.md"
    template.write_text("Describe {title} in at most {max_words} words.")
    assert main(["prompt", "save", "short", "--template", str(template), "--variables", "title",
                 "--facets", "colour,style", "--max-words", "15", "--workspace", str(ws)]) == 0
    assert "saved short@v1:" in capsys.readouterr().out
    saved = PromptLibrary(DEFAULT_PROMPTS_DIR, ws / "prompts").get("short")
    assert (saved.variables, saved.facets, saved.max_words) == (["title"], ["colour", "style"], 15)


@pytest.mark.parametrize(("args", "message"), [
    (["--facets", "style,vibes"], "error: facets: unknown facets ['vibes']"),
    (["--variables", ""], "error: prompt: template uses undeclared variables: ['category', 'title']"),
    (["--max-words", "2"], "error: max_words: Input should be greater than or equal to 5"),
])
def test_save_reports_invalid_settings(ws, template, capsys, args, message):
    assert main(["prompt", "save", "preference", "--template", str(template), *args, "--workspace", str(ws)]) == 2
    assert message in capsys.readouterr().err
    assert not (ws / "prompts").exists()


def test_save_reports_a_missing_or_unsuitable_template_file(ws, tmp_path, capsys):
    missing = tmp_path / "nope.md"
    assert main(["prompt", "save", "preference", "--template", str(missing), "--workspace", str(ws)]) == 2
    assert f"error: template file {missing} does not exist" in capsys.readouterr().err
    seed_file = DEFAULT_PROMPTS_DIR / "preference" / "v1.md"
    assert main(["prompt", "save", "preference", "--template", str(seed_file), "--workspace", str(ws)]) == 2
    assert "starts with YAML front matter" in capsys.readouterr().err
    assert not (ws / "prompts").exists()


def test_list_shows_seeds_and_workspace_versions(ws, template, capsys):
    main(["prompt", "save", "preference", "--template", str(template), "--note", "adds season",
          "--workspace", str(ws)])
    capsys.readouterr()
    assert main(["prompt", "list", "--json", "--workspace", str(ws)]) == 0
    rows = {r["ref"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"appearance@v1", "preference@v1", "preference@v2"} <= set(rows)
    assert rows["preference@v1"]["source"] == "seed"
    assert rows["preference@v1"]["path"] == str(DEFAULT_PROMPTS_DIR / "preference" / "v1.md")
    assert rows["preference@v2"] == {
        "name": "preference", "version": 2, "ref": "preference@v2", "source": "workspace",
        "facets": rows["preference@v1"]["facets"], "max_words": rows["preference@v1"]["max_words"],
        "note": "adds season", "path": str(ws / "prompts" / "preference" / "v2.md")}

    assert main(["prompt", "list", "--workspace", str(ws)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ref", "source", "facets", "max_words", "note", "path"]
    v2 = next(line for line in lines if line.startswith("preference@v2"))
    assert "workspace" in v2 and "adds season" in v2 and "style,usage_context" in v2
