import shutil

import pytest

from core.config import PACKAGE_DIR
from core.describe.prompts import DEFAULT_PROMPTS_DIR, PromptError, PromptLibrary, diff_versions
from core.lab import open_lab
from core.nets.encoders import HashEncoder


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def seeds(tmp_path):
    """A private copy of the shipped seeds, so a test can also play a release that ships new seed versions."""
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path / "seeds")
    return tmp_path / "seeds"


@pytest.fixture
def library(seeds, tmp_path) -> PromptLibrary:
    return PromptLibrary(seeds, tmp_path / "ws" / "prompts")


def test_shipped_prompts_load_and_differ(library):
    pref, app = library.get("preference"), library.get("appearance")
    assert pref.facets[0] == "style" and "occasion" in pref.facets
    assert app.facets == ["colour", "pattern", "material"]
    assert pref.hash != app.hash
    assert "Velvet Blazer" in pref.render({"title": "Velvet Blazer", "category": "apparel"})


def test_save_creates_new_version_and_keeps_old(library):
    v1 = library.get("preference@1")
    v2 = library.save("preference", v1.template + "\nMention the season.", variables=v1.variables,
                      facets=v1.facets, max_words=v1.max_words)
    assert v2.version == 2 and v2.hash != v1.hash
    assert library.get("preference@v1").template == v1.template
    assert [v.version for v in library.versions("preference")] == [1, 2]
    assert library.get("preference").version == 2
    assert "+Mention the season." in diff_versions(v1, v2)


def test_save_writes_into_the_workspace_and_leaves_the_seeds_alone(library, seeds, tmp_path):
    before = _snapshot(seeds)
    v1 = library.get("preference")
    library.save("preference", v1.template + "\nMention the season.", variables=v1.variables, facets=v1.facets,
                 max_words=v1.max_words, summary="adds season")
    library.save("fresh", "Describe it in {max_words} words.", variables=[], facets=["style"], max_words=20)
    assert _snapshot(seeds) == before
    assert sorted(_snapshot(tmp_path / "ws" / "prompts")) == ["fresh/v1.md", "preference/v2.md"]
    entry = library.entry("preference@v2")
    assert (entry.source, entry.path) == ("workspace", tmp_path / "ws" / "prompts" / "preference" / "v2.md")
    assert entry.prompt.summary == "adds season"
    assert library.entry("preference@v1").source == "seed"
    assert library.names() == ["appearance", "fresh", "preference"]


def test_list_shows_seeds_and_workspace_versions_in_order(library):
    v1 = library.get("appearance")
    library.save("appearance", v1.template + "\nBe brief.", variables=v1.variables, facets=v1.facets,
                 max_words=v1.max_words)
    rows = [(e.prompt.ref, e.source) for e in library.entries()]
    assert rows == [("appearance@v1", "seed"), ("appearance@v2", "workspace"), ("preference@v1", "seed")]
    assert [v.ref for v in library.all_versions()] == [ref for ref, _ in rows]


def test_versions_continue_after_the_highest_seed(library, seeds):
    v1 = library.get("preference")
    shutil.copy(seeds / "preference" / "v1.md", seeds / "preference" / "v3.md")  # a release ships preference@v3
    saved = library.save("preference", v1.template + "\nMention the season.", variables=v1.variables,
                         facets=v1.facets, max_words=v1.max_words)
    assert saved.ref == "preference@v4"
    assert library.entry("preference@v4").source == "workspace"
    assert [(e.prompt.version, e.source) for e in library.entries("preference")] == [
        (1, "seed"), (3, "seed"), (4, "workspace")]


def test_a_workspace_version_never_shadows_a_seed(library, seeds, tmp_path):
    """A later release shipping a seed with the number of a saved version is reported, not silently resolved."""
    v1 = library.get("preference")
    library.save("preference", v1.template + "\nMention the season.", variables=v1.variables, facets=v1.facets,
                 max_words=v1.max_words)
    shutil.copy(seeds / "preference" / "v1.md", seeds / "preference" / "v2.md")
    with pytest.raises(PromptError, match=r"preference@v2 exists both as .*seeds.* and as .*ws/prompts"):
        library.get("preference@v2")
    assert (tmp_path / "ws" / "prompts" / "preference" / "v2.md").read_text().endswith("Mention the season.\n")


def test_save_is_an_exclusive_create(library, tmp_path, monkeypatch):
    first = library.save("fresh", "Describe it.", variables=[], facets=["style"], max_words=20)
    path = tmp_path / "ws" / "prompts" / "fresh" / "v1.md"
    text = path.read_text()
    monkeypatch.setattr(library, "names", lambda: [])  # a stale view: another save just took v1
    with pytest.raises(PromptError, match="fresh@v1 was saved by someone else meanwhile"):
        library.save("fresh", "Describe it differently.", variables=[], facets=["style"], max_words=20)
    assert path.read_text() == text and first.ref == "fresh@v1"


def test_save_rejects_undeclared_variable_and_writes_nothing(library, tmp_path):
    with pytest.raises(PromptError, match="undeclared variables: \\['brand'\\]"):
        library.save("preference", "Describe {brand}", variables=[], facets=["style"], max_words=40)
    assert len(library.versions("preference")) == 1
    assert not (tmp_path / "ws" / "prompts").exists()


def test_save_rejects_unchanged_prompt(library):
    v1 = library.get("appearance")
    with pytest.raises(PromptError, match="nothing changed"):
        library.save("appearance", v1.template, variables=v1.variables, facets=v1.facets, max_words=v1.max_words)


def test_save_rejects_empty_template_and_bad_names(library):
    with pytest.raises(PromptError, match="template is empty"):
        library.save("fresh", "  \n", variables=[], facets=["style"], max_words=40)
    with pytest.raises(PromptError, match="prompt names are lowercase"):
        library.save("../escape", "hi", variables=[], facets=["style"], max_words=40)


def test_unknown_facet_and_bad_refs(library):
    with pytest.raises(PromptError, match="unknown facets"):
        library.save("x", "hi", variables=[], facets=["vibes"], max_words=40)
    with pytest.raises(PromptError, match="no prompt named 'nope'"):
        library.get("nope")
    with pytest.raises(PromptError, match="no version 9"):
        library.get("preference@9")


def test_missing_variable_renders_unknown(library):
    assert "Category: unknown" in library.get("appearance").render({})


def test_a_library_without_a_workspace_reads_the_seeds_but_cannot_save():
    library = PromptLibrary()
    assert {"appearance", "preference"} <= set(library.names())
    with pytest.raises(PromptError, match="no workspace is open"):
        library.save("fresh", "hi", variables=[], facets=["style"], max_words=40)


def test_saving_inside_the_installed_code_is_refused(seeds):
    """A workspace opened at the checkout would make <workspace>/prompts the seeds folder itself."""
    at_seeds = PromptLibrary(seeds, seeds)
    assert [e.source for e in at_seeds.entries("preference")] == ["seed"]  # read once, not as a conflict
    before = _snapshot(seeds)
    with pytest.raises(PromptError, match="inside the installed code"):
        at_seeds.save("fresh", "hi", variables=[], facets=["style"], max_words=40)
    assert _snapshot(seeds) == before
    in_package = PromptLibrary(seeds, PACKAGE_DIR / "prompts")
    with pytest.raises(PromptError, match="inside the installed code"):
        in_package.save("fresh", "hi", variables=[], facets=["style"], max_words=40)
    assert not (PACKAGE_DIR / "prompts").exists()


def test_open_lab_reads_injected_seeds_and_saves_into_the_workspace(seeds, tmp_path):
    lab = open_lab(tmp_path / "ws", encoder=HashEncoder(), seed_prompts_dir=seeds)
    assert lab.prompts.seeds_dir == seeds
    assert lab.prompts.root == lab.workspace.prompts_dir == lab.workspace.root / "prompts"
    assert not lab.workspace.prompts_dir.exists()  # created by the first save, not by opening
    saved = lab.prompts.save("fresh", "hi", variables=[], facets=["style"], max_words=40)
    assert lab.prompts.entry(saved.ref).path == lab.workspace.prompts_dir / "fresh" / "v1.md"


@pytest.mark.parametrize("template", [
    'Answer as JSON: {"description": "a red linen shirt"}',
    'Reply like this:\n{\n  "description": "...",\n  "style": ["minimalist"]\n}',
])
def test_a_json_example_says_how_to_write_braces(library, template):
    with pytest.raises(PromptError, match=r"the template contains a JSON example: write braces as \{\{ and \}\}"):
        library.save("fresh", template, variables=["title"], facets=["style"], max_words=40)
    library.save("fresh", template.replace("{", "{{").replace("}", "}}"), variables=[], facets=["style"],
                 max_words=40)  # escaped, the same example is fine
    assert library.get("fresh").render({}) == template


@pytest.mark.parametrize("field", ["{title:>200000000}", "{title!r}", "{title:{max_words}}", "{title.__class__}",
                                   "{title[0]}", "{}", "{0}"])
def test_template_fields_are_plain_names(library, field):
    """`{title:>200000000}` built a 200 MB prompt per item; a field is substituted as is or not at all."""
    with pytest.raises(PromptError, match=r"template field .* is not a plain \{name\}"):
        library.save("fresh", f"Describe {field}.", variables=["title"], facets=["style"], max_words=40)
    assert "fresh" not in library.names()


def test_an_unmatched_brace_says_how_to_write_braces(library):
    with pytest.raises(PromptError, match=r"unmatched brace.*write literal braces as \{\{ and \}\}"):
        library.save("fresh", "Describe it } please.", variables=[], facets=["style"], max_words=40)
