"""Two reviewers in two sessions, and the app's Undo (through the same core function as `vitrine undo`)."""

from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.services import qa
from tests.app.conftest import open_page, successes

QA = "pages/qa.py"
CATALOG = "pages/catalog.py"
ANA = "Ana's rewrite: a hand-thrown blue vase for a sunny windowsill."
BEN = "Ben's rewrite: a rustic ceramic vase in deep blue for a kitchen shelf."


def _key(lab, sku):
    table = qa.qa_table(lab, prompt_ref="preference@v1")
    return table.loc[table["sku"] == sku, "key"].iloc[0]


def _reviewing(lab, sku, name):
    at = open_page(lab, QA)
    at.selectbox(key="qa_item").set_value(f"{_key(lab, sku)}|{sku}").run()
    return at.text_input(key="qa_reviewer").input(name).run()


def _save(at, key, text):
    at.text_area(key=f"qa_edit_{key}").input(text).run()
    return at.button(key="qa_save").click().run()


def _undo(at, page):
    at.checkbox(key=f"{page}_undo_confirm").check().run()
    return at.button(key=f"{page}_undo").click().run()


def test_two_sessions_editing_one_description_keep_both_texts(app_lab):
    key = _key(app_lab, "H1")
    ana = _reviewing(app_lab, "H1", "Ana")  # both open H1 before either saves
    ben = _reviewing(open_lab(app_lab.workspace, encoder=HashEncoder()), "H1", "Ben")  # another server's Lab
    _save(ana, key, ANA)
    assert any("Saved the revision of H1" in s.value for s in ana.success)
    _save(ben, key, BEN)
    assert not ben.exception and not ben.success
    assert "Ana edited the text at" in ben.error[0].value and "not saved" in ben.error[0].value
    texts = [t.value for t in ben.text]
    assert ANA in texts and BEN in texts  # both versions shown, as plain text
    assert ben.text_area(key=f"qa_edit_{key}").value == BEN  # the draft stays in the editor
    assert qa.qa_table(app_lab, status="edited")["text"].tolist() == [ANA]  # Ana's text stays
    ben.button(key="qa_save").click().run()  # having seen Ana's text, Ben saves over it deliberately
    assert any("Saved the revision of H1" in s.value for s in ben.success)
    assert qa.qa_table(app_lab, status="edited")["text"].tolist() == [BEN]


def test_approving_after_someone_else_edited_is_a_conflict(app_lab):
    ana = _reviewing(app_lab, "A2", "Ana")
    ben = _reviewing(app_lab, "A2", "Ben")
    _save(ana, _key(app_lab, "A2"), ANA)
    ben.button(key="qa_approve").click().run()
    assert "Ana edited the text" in ben.error[0].value
    assert qa.qa_table(app_lab, status="approved").empty
    ben.button(key="qa_approve").click().run()  # now seen: approving Ana's text goes through
    assert qa.qa_table(app_lab, status="approved")["text"].tolist() == [ANA]


def test_undo_an_edit_on_the_qa_page_names_and_brings_back_the_previous_text(app_lab):
    key = _key(app_lab, "H1")
    at = _save(_reviewing(app_lab, "H1", "Ana"), key, ANA)
    assert "brings back the previous text of H1 (preference@v1/fake/fake-1) and its vector(s)" in [
        t.value for t in at.text][0]
    at = _undo(at, "qa")
    assert not at.exception
    assert any(s.startswith("Undone") for s in successes(at))
    assert qa.qa_table(app_lab, status="edited").empty
    assert qa.qa_table(app_lab, prompt_ref="preference@v1").set_index("sku").loc["H1", "text"] == \
        "Blue Ceramic Vase home for preference"
    assert at.text_area(key=f"qa_edit_{key}").value == "Blue Ceramic Vase home for preference"


def test_undo_a_delete_on_the_catalog_page(app_lab):
    at = open_page(app_lab, CATALOG)
    at.multiselect(key="catalog_delete").select("B1").select("H1").run()
    at.checkbox(key="catalog_delete_confirm").check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert set(app_lab.store.items()["sku"]) == {"A1", "A2", "A3", "B2"}
    assert "Undo “deleted 2 item(s): B1, H1”" in at.text[0].value
    assert at.button(key="catalog_undo").disabled  # needs the confirmation first
    at = _undo(at, "catalog")
    assert not at.exception
    assert "items: brought back 2 row(s): B1, H1" in at.text[0].value
    assert set(app_lab.store.items()["sku"]) == {"A1", "A2", "A3", "B1", "B2", "H1"}


def test_opening_a_workspace_repairs_what_a_crash_left_and_says_so(stocked_lab, monkeypatch):
    """stocked_lab's items were committed but never embedded, as a kill before the title embedding leaves them."""
    from streamlit.testing.v1 import AppTest

    import ui.state
    from tests.app.conftest import ROOT

    monkeypatch.setattr(ui.state, "open_lab", lambda path: open_lab(path, encoder=HashEncoder()))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["workspace"] = str(stocked_lab.workspace.root)
    at.run()
    assert not at.exception
    shown = [i.value for i in at.info if "repaired" in i.value]
    assert len(shown) == 1 and "title" in shown[0] and "embedded 6 missing vector" in shown[0]
    reps = stocked_lab.store.representations().set_index("name")
    assert {len(stocked_lab.store.vectors(reps.loc[n, "table"])[0]) for n in ("title", "visual")} == {6}
    at.run()
    assert not [i for i in at.info if "repaired" in i.value]  # said once per session
