from core.services import qa
from tests.app.conftest import open_page

PAGE = "pages/item.py"


def _texts(at):
    return [t.value for t in at.text]


def test_item_page_opens_the_linked_sku_with_every_run_and_neighbours(app_lab):
    key = qa.qa_table(app_lab, prompt_ref="preference@v1").set_index("sku").loc["B1", "key"]
    qa.approve(app_lab, key)
    at = open_page(app_lab)
    at.query_params["sku"] = "B1"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="item_sku").value == "B1"
    assert "B1 · Black Leather Tote · bags" in _texts(at)
    runs = at.dataframe[1].value.set_index("run")
    assert set(runs.index) == {"preference@v1/fake/fake-1", "appearance@v1/fake/fake-1"}
    assert runs.loc["preference@v1/fake/fake-1", "status"] == "approved"
    assert len(at.tabs) == len(app_lab.store.representations())  # neighbours under each representation
    neighbours = [c for img in at.image[1:] for c in img.captions]  # after the item's own image
    assert len(neighbours) == 5 and not any(c.startswith("B1 ·") for c in neighbours)  # never its own neighbour
    activity = at.dataframe[-1].value  # the item's own audit trail, newest first
    assert activity.iloc[0]["action"] == "approve" and activity.iloc[0]["skus"] == "B1"


def test_picking_another_item_is_not_undone_by_the_link(app_lab):
    at = open_page(app_lab)
    at.query_params["sku"] = "B1"
    at.switch_page(PAGE).run()
    at.selectbox(key="item_sku").set_value("H1").run()
    assert at.selectbox(key="item_sku").value == "H1"
    assert at.query_params["sku"] in ("H1", ["H1"])  # the address names the item shown
    assert "H1 · Blue Ceramic Vase · home" in _texts(at)


def test_unknown_sku_in_the_link_is_named(app_lab):
    at = open_page(app_lab)
    at.query_params["sku"] = "NOPE"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("NOPE" in w.value for w in at.warning)
