import shutil

import pytest

from core.describe.prompts import DEFAULT_PROMPTS_DIR, PromptError, PromptLibrary, diff_versions


@pytest.fixture
def library(tmp_path) -> PromptLibrary:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path / "prompts")
    return PromptLibrary(tmp_path / "prompts")


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


def test_save_rejects_undeclared_variable_and_writes_nothing(library):
    with pytest.raises(PromptError, match="undeclared variables: \\['brand'\\]"):
        library.save("preference", "Describe {brand}", variables=[], facets=["style"], max_words=40)
    assert len(library.versions("preference")) == 1


def test_save_rejects_unchanged_prompt(library):
    v1 = library.get("appearance")
    with pytest.raises(PromptError, match="nothing changed"):
        library.save("appearance", v1.template, variables=v1.variables, facets=v1.facets, max_words=v1.max_words)


def test_unknown_facet_and_bad_refs(library):
    with pytest.raises(PromptError, match="unknown facets"):
        library.save("x", "hi", variables=[], facets=["vibes"], max_words=40)
    with pytest.raises(PromptError, match="no prompt named 'nope'"):
        library.get("nope")
    with pytest.raises(PromptError, match="no version 9"):
        library.get("preference@9")


def test_missing_variable_renders_unknown(library):
    assert "Category: unknown" in library.get("appearance").render({})
