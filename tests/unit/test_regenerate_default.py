"""QA's Regenerate default follows the prompt version this reviewer saved last, when it is a version of the
description's prompt (fakes only)."""

from core.services import qa


def _save(lab, text):
    v1 = lab.prompts.get("preference@v1")
    return lab.prompts.save("preference", v1.template + text, variables=list(v1.variables), facets=list(v1.facets),
                            max_words=v1.max_words).ref


def test_the_version_this_reviewer_saved_wins_over_a_newer_one_a_teammate_saved(described_lab):
    lab = described_lab.lab
    mine, theirs = _save(lab, "\nMention the fit."), _save(lab, "\nMention the season.")
    assert (mine, theirs) == ("preference@v2", "preference@v3")
    assert qa.regenerate_default(lab, "preference@v1", saved=mine) == mine
    assert qa.regenerate_default(lab, "preference@v1") == theirs  # nothing saved here: the newest
    assert qa.regenerate_default(lab, "preference@v1", saved="appearance@v1") == theirs  # another prompt's
    assert qa.regenerate_default(lab, "preference@v1", saved="preference@v9") == theirs  # a version that is gone
    assert qa.regenerate_default(lab, "appearance@v1", saved=mine) == "appearance@v1"
