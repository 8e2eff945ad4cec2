"""Every grid of Search, the Shopper Simulator and Cold start links each item to its detail page
(pages/item.py, ?sku=)."""

from pathlib import Path

from tests.app.conftest import open_page
from tests.app.test_cold_start_page import previewed
from ui.links import ITEM_PAGE

ITEM = Path(ITEM_PAGE).stem  # the URL path Streamlit gives pages/item.py


def _links(at) -> list[tuple[str, str]]:
    """(target page, query string) of each item link on the page."""
    return [(e.proto.page, e.proto.query_string) for e in at.get("page_link")]


def test_search_results_link_to_their_detail_pages(app_lab):
    at = open_page(app_lab, "pages/search.py")
    at.slider[0].set_value(3)
    at.text_input[0].input("leather tote bags").run()
    shown = at.dataframe[0].value["sku"].tolist()
    assert len(shown) == 3 and _links(at) == [(ITEM, f"sku={s}") for s in shown]


def test_recommendations_and_history_link_to_their_detail_pages(app_lab):
    at = open_page(app_lab, "pages/shopper.py")
    at.slider(key="shopper_k").set_value(3).run()
    at.multiselect(key="shopper_history").set_value(["A1", "B1"]).run()
    recommended = at.dataframe[0].value["sku"].tolist()
    assert len(recommended) == 3
    assert set(_links(at)) == {(ITEM, f"sku={s}") for s in ["A1", "B1", *recommended]}


def test_cold_start_neighbours_link_to_their_detail_pages(app_lab):
    at = previewed(app_lab)
    neighbours = next(d.value for d in at.dataframe if "score" in d.value.columns)["sku"].tolist()
    assert neighbours and _links(at) == [(ITEM, f"sku={s}") for s in neighbours]
