from core.represent.coverage import coverage
from tests.app.conftest import open_page
from tests.app.partial import add_unsynced_item, names
from ui.text import plain

PAGE = "pages/search.py"


def test_search_returns_k_scored_results(app_lab):
    at = open_page(app_lab, PAGE)
    assert not at.exception
    reps = at.selectbox[0]
    assert reps.value.startswith("preference@v")  # the active prompt's run is the default
    assert "title · 6 of 6 items" in reps.options  # every option says how much of the catalogue it covers
    assert not at.warning  # complete representations need no word
    at.slider[0].set_value(3)
    at.text_input[0].input("leather tote bags").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) == 3
    assert table["score"].is_monotonic_decreasing
    assert set(table["sku"][:2]) == {"B1", "B2"}
    captions = [c for img in at.image for c in img.captions]
    assert len(captions) == 3
    assert captions[0] == plain(f"{table['sku'][0]} · {table['title'][0]} · {table['score'][0]:.3f}")


def test_search_on_title_representation(app_lab):
    at = open_page(app_lab, PAGE)
    at.selectbox[0].select("title")
    at.text_input[0].input("ceramic vase").run()
    assert not at.exception
    assert at.dataframe[0].value["sku"].iloc[0] == "H1"


def test_more_results_than_items_lists_them_all_and_says_so(app_lab):
    at = open_page(app_lab, PAGE)
    at.slider[0].set_value(20)
    at.text_input[0].input("shirt").run()
    assert len(at.dataframe[0].value) == 6
    assert plain("k=20 is more than the 6 candidate(s): all 6 are ranked") in [c.value for c in at.caption]


def test_a_partial_representation_says_what_it_ranks_over_and_sync_completes_it(app_lab, tmp_path):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE)
    assert f"{at.selectbox[0].value} · 6 of 7 items" in at.selectbox[0].options
    at.selectbox[0].select("title").run()
    assert [w.value for w in at.warning] == [plain("title ranks 6 of 7 items: results can only come from those.")]
    assert any("1 item(s) to describe via fake/fake-1: free (runs locally)" in t.value for t in at.text)
    at.button(key="search_sync").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == "Synced."
    assert not at.warning
    assert "title · 7 of 7 items" in at.selectbox[0].options
    assert coverage(app_lab, "title").complete and coverage(app_lab, "visual").complete
    at.text_input[0].input("green wool scarf").run()
    assert at.dataframe[0].value["sku"].iloc[0] == "N1"  # the new item can now be found


def test_a_partial_run_that_is_not_active_points_to_promote(app_lab, tmp_path):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE)
    appearance = next(n for n in names(at.selectbox[0].options) if n.startswith("appearance@"))
    at.selectbox[0].select(appearance).run()
    assert [w.value for w in at.warning] == [plain(f"{appearance} ranks 6 of 7 items: results can only come from "
                                                   "those.")]
    assert "Prompt Lab → Promote" in at.info[0].value
    assert "search_sync" not in {b.key for b in at.button}


def test_search_without_representations_says_what_to_do(lab):
    at = open_page(lab, PAGE)
    assert not at.exception
    assert "Catalog page" in at.info[0].value
