from tests.app.conftest import open_page


def test_search_returns_k_scored_results(app_lab):
    at = open_page(app_lab, "pages/search.py")
    assert not at.exception
    reps = at.selectbox[0]
    assert reps.value.startswith("preference@v")  # the active prompt's run is the default
    assert "title" in reps.options
    at.slider[0].set_value(3)
    at.text_input[0].input("leather tote bags").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) == 3
    assert table["score"].is_monotonic_decreasing
    assert set(table["sku"][:2]) == {"B1", "B2"}
    captions = [c for img in at.image for c in img.captions]
    assert len(captions) == 3
    assert captions[0].startswith(f"{table['sku'][0]} · ") and captions[0].endswith(f"{table['score'][0]:.3f}")


def test_search_on_title_representation(app_lab):
    at = open_page(app_lab, "pages/search.py")
    at.selectbox[0].select("title")
    at.text_input[0].input("ceramic vase").run()
    assert not at.exception
    assert at.dataframe[0].value["sku"].iloc[0] == "H1"


def test_search_without_representations_says_what_to_do(lab):
    at = open_page(lab, "pages/search.py")
    assert not at.exception
    assert "Catalog page" in at.info[0].value
