from core.represent.recommend import MAX_QUERY_CHARS
from tests.app.conftest import open_page


def test_the_search_box_stops_at_the_query_limit(app_lab):
    """The box shows a counter and takes no more than the core accepts, so a paste never ends in an error."""
    at = open_page(app_lab, "pages/search.py")
    box = at.text_input[0]
    assert box.max_chars == MAX_QUERY_CHARS
    box.set_value("leather tote " * 100).run()  # 1,300 characters, as a client that ignores the cap would send
    assert not at.exception and not at.error
    assert len(at.text_input[0].value) == MAX_QUERY_CHARS  # Streamlit cuts it to the cap on the server
    assert len(at.dataframe[0].value)
