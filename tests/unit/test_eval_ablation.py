"""Title ablation: a derived prompt without {title}, run with the title also removed from the item context."""

import pytest

from core.describe.prompts import DEFAULT_PROMPTS_DIR
from core.errors import EvaluationError
from core.evaluation.ablation import prompt_without, run_withheld
from core.runs.prompt import run_prompt


@pytest.fixture
def ablation_lab(stocked_lab):
    """The stocked lab: the derived prompt is saved into its workspace, the shipped seeds stay untouched."""
    return stocked_lab


def test_derived_prompt_drops_the_title_line_only(ablation_lab):
    library = ablation_lab.prompts
    base = library.get("preference")
    derived = prompt_without(library, base)
    assert derived.ref == "preference-notitle@v1"
    assert "{title}" not in derived.template and "{category}" in derived.template
    assert derived.variables == ["category"]
    assert (derived.facets, derived.max_words) == (base.facets, base.max_words)
    assert len(derived.template.splitlines()) == len(base.template.splitlines()) - 1
    assert prompt_without(library, base).ref == derived.ref  # an identical version is reused, not re-saved
    assert [v.version for v in library.versions("preference-notitle")] == [1]
    saved = library.entry(derived.ref)
    assert (saved.source, saved.path.parent) == ("workspace", ablation_lab.workspace.prompts_dir / derived.name)
    assert not (DEFAULT_PROMPTS_DIR / derived.name).exists()
    with pytest.raises(EvaluationError, match="does not use {title}"):
        prompt_without(library, library.get("appearance"))


def test_run_withheld_hides_the_title_from_the_describer(ablation_lab, fake_describer):
    lab = ablation_lab
    report = run_withheld(lab, lab.prompts.get("preference"), "fake")
    assert report.prompt_ref == "preference-notitle@v1" and report.calls == 6
    assert report.representation == "preference-notitle@v1/fake/fake-1"
    titles = set(lab.store.items()["title"])
    descriptions = lab.store.descriptions(prompt_hash=lab.prompts.get("preference-notitle").hash)
    assert len(descriptions) == 6
    # the fake describer echoes the title it is given; withheld, it only sees 'item'
    assert all(text.startswith("item ") and not any(t in text for t in titles) for text in descriptions["text"])
    assert len(lab.store.vectors("vec_preference_notitle_v1_fake_fake_1")[0]) == 6


def test_a_prompt_without_the_variable_refuses_stale_cache(ablation_lab):
    lab = ablation_lab
    run_prompt(lab, lab.prompts.get("appearance"), "fake")  # descriptions made with titles visible
    with pytest.raises(EvaluationError, match="already has descriptions made with 'title' visible"):
        run_withheld(lab, lab.prompts.get("appearance"), "fake")
