"""QA's Regenerate prompt picker offers the version just saved in the Prompt Lab (ui.state.SAVED_PROMPT), also
when the picker was shown before the save and when a teammate saved a newer version since."""

from tests.app.conftest import open_page
from tests.app.test_qa_page import PAGE, _key, _select
from ui.state import SAVED_PROMPT


def _save(lab, text):
    v1 = lab.prompts.get("preference@v1")
    return lab.prompts.save("preference", v1.template + text, variables=list(v1.variables), facets=list(v1.facets),
                            max_words=v1.max_words).ref


def test_regenerate_defaults_to_the_prompt_saved_in_this_session(app_lab):
    at = _select(open_page(app_lab, PAGE), app_lab, "A1")
    at.session_state["qa_tab"] = "Regenerate"
    picker = f"qa_regen_prompt_{_key(app_lab, 'A1')}"
    assert at.run().selectbox(key=picker).value == "preference@v1"
    mine = _save(app_lab, "\nMention the fit.")
    _save(app_lab, "\nMention the season.")  # a teammate's, saved after
    at.session_state[SAVED_PROMPT] = mine
    assert at.run().selectbox(key=picker).value == mine
    assert not at.exception
