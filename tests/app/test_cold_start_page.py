import io
import json

import pandas as pd

from core.represent.recommend import load_matrix
from tests.app.conftest import open_page
from tests.app.downloads import capture_downloads
from tests.app.partial import add_unsynced_item
from tests.fakes import png_bytes
from ui.text import plain

PAGE = "pages/cold_start.py"
REP = "preference@v1/fake/fake-1"


def counts(lab):
    return lab.store.item_count(), len(lab.store.descriptions()), len(load_matrix(lab, REP).skus), \
        len(load_matrix(lab, "title").skus), len(list(lab.workspace.images_dir.iterdir()))


def previewed(lab, title="Red Linen Shirt", category="apparel"):
    at = open_page(lab, PAGE, timeout=120)
    at.file_uploader(key="cs_image").upload("new.png", png_bytes("green", shape="circle"), "image/png")
    at.text_input(key="cs_title").input(title)
    at.text_input(key="cs_category").input(category)
    return at.button(key="cs_preview").click().run()


def test_page_renders_the_upload_form(app_lab):
    at = open_page(app_lab, PAGE)
    assert not at.exception
    assert plain("Active prompt: preference@v1 · provider: fake") in [c.value for c in at.caption]
    assert at.button(key="cs_preview")


def test_preview_shows_neighbours_duplicates_reach_and_map_but_writes_nothing(app_lab):
    before = counts(app_lab)
    at = previewed(app_lab)
    assert not at.exception
    assert counts(app_lab) == before
    assert "Red Linen Shirt apparel for preference" in [t.value for t in at.text]
    assert plain(f"Description (preference@v1 via fake/fake-1) embedded in {REP} · 6 of 6 items") in \
        [c.value for c in at.caption]
    assert not [w for w in at.warning if "compares the new product" in w.value]  # the whole catalogue was compared
    neighbours = at.dataframe[1].value
    assert neighbours["sku"].iloc[0] == "A1" and len(neighbours) == 6
    assert [w.value for w in at.warning] == [plain("Cannibalisation risk: 1 catalogue item(s) at cosine ≥ 0.90: A1 "
                                                   "(1.000)")]
    reach = {m.label: m.value for m in at.metric}
    assert reach["Sample shoppers who would see it in their top-10"] == "3 / 3"
    [spec] = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    assert [t for t in spec["data"] if t["name"] == "new"][0]["text"] == ["new"]


def test_add_button_is_the_only_write(app_lab):
    at = previewed(app_lab, "Green Wool Scarf", "accessories")
    items, descs, vectors, titles, images = counts(app_lab)
    at.text_input(key="cs_sku").input("N1").run()
    assert counts(app_lab) == (items, descs, vectors, titles, images)  # typing a SKU writes nothing
    at.button(key="cs_add").click().run()
    assert not at.exception
    assert any("Added N1 to the catalogue" in s.value for s in at.success)
    assert counts(app_lab) == (items + 1, descs + 1, vectors + 1, titles + 1, images + 1)
    assert app_lab.store.items().set_index("sku").loc["N1", "title"] == "Green Wool Scarf"


def test_bad_upload_is_an_error_not_a_traceback(app_lab):
    at = open_page(app_lab, PAGE)
    at.file_uploader(key="cs_image").upload("new.png", b"not an image", "image/png")
    at.text_input(key="cs_title").input("Scarf")
    at.button(key="cs_preview").click().run()
    assert not at.exception
    assert "not a recognised image file" in at.error[0].value


def test_a_preview_against_a_partial_representation_says_what_it_compared(app_lab, tmp_path):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = previewed(app_lab, "Blue Glass Lamp", "home")
    assert not at.exception
    assert plain(f"{REP} compares the new product with 6 of 7 items: its neighbours, near-duplicates and audience "
                 "reach only count those.") in [w.value for w in at.warning]
    assert at.button(key="cs_sync")
    assert plain(f"Description (preference@v1 via fake/fake-1) embedded in {REP} · 6 of 7 items") in \
        [c.value for c in at.caption]
    assert [s.value for s in at.success] == ["None of the 6 items compared is closer than cosine 0.90."]


def test_the_report_downloads_carry_the_previews_figures(app_lab, monkeypatch):
    downloads = capture_downloads(monkeypatch)
    at = previewed(app_lab)
    assert not at.exception
    assert plain("Neighbour categories: apparel 3 of 6, bags 2 of 6, home 1 of 6; the declared category 'apparel' "
                 "is the most common among them.") in [c.value for c in at.caption]
    mime, markdown = downloads["cold-start-report.md"]
    text = markdown.decode()
    assert mime == "text/markdown" and text.startswith("# Cold-start report: Red Linen Shirt\n")
    assert "1 catalogue item(s) at cosine ≥ 0.90" in text and "3 of 3 sample shoppers (100%)" in text
    assert "| 1 | A1 | Red Linen Shirt | apparel |" in text
    mime, raw = downloads["cold-start-report.csv"]
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False)
    assert mime == "text/csv"
    assert frame.loc[frame["section"] == "neighbour", "id"].tolist() == at.dataframe[1].value["sku"].tolist()
    assert frame.loc[frame["section"] == "near-duplicate", "id"].tolist() == ["A1"]
    assert len(frame[frame["section"] == "reached shopper"]) == 3
    assert frame.loc[frame["id"] == "title", "note"].item() == "Red Linen Shirt"
