"""One merchandiser session in Chromium against `vitrine app` on an empty workspace, offline describer: upload →
A/B between two prompt versions → blind votes → promote → QA (approve, flag, edit) → map diff → downloads, and
what the downloaded files hold."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from core.config import SAMPLE_CATALOG_DIR
from core.services.votes import ab_id, left_side
from tests.app.test_browser import ARTIFACTS, CHROMIUM, launch, outside_urls, settled
from tests.fakes import png_bytes
from ui.server import start_app

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]

PER_CATEGORY = {"apparel": 3, "bags": 3, "shoes": 3, "home": 2}  # 11 sample items + the planted one: 12, A/B's N
HOSTILE_SKU = "AAA-NEW-1"  # sorts first, so QA's queue opens on it
HOSTILE_TITLE = '=HYPERLINK("https://attacker.example/x","open")'  # a spreadsheet would run it as a formula
EDITED_TEXT = "Reviewer copy: hand-checked ceramic piece for everyday use."
WAIT = 120_000  # ms: the machine running this is shared and loaded; every wait is for a visible outcome


def upload_set(folder: Path) -> tuple[list[Path], Path]:
    """The images and metadata CSV a merchandiser uploads: sample products plus a row with a formula title."""
    items = pd.read_csv(SAMPLE_CATALOG_DIR / "items.csv", dtype=str, keep_default_na=False)
    chosen = pd.concat([items[items["category"] == c].head(n) for c, n in PER_CATEGORY.items()])
    folder.mkdir()
    images = []
    for row in chosen.itertuples():
        images.append(shutil.copyfile(SAMPLE_CATALOG_DIR / row.image, folder / Path(row.image).name))
    chosen = chosen.assign(image=chosen["image"].map(lambda p: Path(p).name))
    hostile = folder / f"{HOSTILE_SKU}.png"
    hostile.write_bytes(png_bytes("green", size=(96, 96)))
    images.append(hostile)
    rows = pd.concat([pd.DataFrame([{"sku": HOSTILE_SKU, "title": HOSTILE_TITLE, "category": "home",
                                     "image": hostile.name}]), chosen]).fillna("")
    metadata = folder / "items.csv"
    rows.to_csv(metadata, index=False, quoting=csv.QUOTE_MINIMAL)
    return images, metadata


@pytest.fixture
def browser_page():
    with playwright.sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(WAIT)
        expect.set_options(timeout=WAIT)
        yield page
        expect.set_options()  # back to Playwright's default for the tests that follow
        browser.close()


def open_nav(page, link: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for()
    settled(page)


def upload(page, label: str, files: list[Path]) -> None:
    """Choose files in an uploader and wait until they are on the server: Ingest, once enabled by the images, does
    not wait for a metadata CSV still uploading and would ingest without it."""
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
    uploader.locator("input[type=file]").set_input_files([str(f) for f in files])
    expect(uploader.get_by_test_id("stFileChip").first).to_be_visible()
    expect(uploader.get_by_test_id("stFileChipIconSpinner")).to_have_count(0)
    settled(page)


def keyed(page, key: str):
    """The element Streamlit wrapped for a widget with this key (it adds the class st-key-<key>)."""
    return page.locator(f".st-key-{key}")


def choice(page, key: str):
    """A keyed selectbox's combobox, whose value is the option shown."""
    return keyed(page, key).get_by_role("combobox")


def shows(page, key: str, prefix: str) -> None:
    """Wait until a keyed selectbox shows an option starting with prefix (it may be set by a run in progress)."""
    expect(choice(page, key)).to_have_value(re.compile("^" + re.escape(prefix)))


def pick(page, key: str, option: str) -> None:
    choice(page, key).click()
    page.get_by_role("option", name=option).first.click()
    settled(page)


def download(page, key: str, name: str) -> bytes:
    """Click a keyed download button; the file the browser saved, checked to carry the expected name."""
    button = keyed(page, key).get_by_role("button")
    expect(button).to_be_enabled()
    settled(page)  # a button from a run still in progress may be replaced, with its file, when the run ends
    with page.expect_download() as info:
        button.click()
    assert info.value.suggested_filename == name
    return Path(info.value.path()).read_bytes()


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV starts with a BOM so Excel reads accents right"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def flash(page, text: str) -> None:
    """Wait for an action's success message, then for the run that shows it to finish."""
    page.get_by_test_id("stAlertContentSuccess").filter(has_text=text).first.wait_for()
    settled(page)


def test_a_merchandiser_session_from_upload_to_downloads(browser_page, tmp_path):
    page = browser_page
    images, metadata = upload_set(tmp_path / "upload")
    skus = sorted([HOSTILE_SKU, *(p.stem for p in images if p.stem != HOSTILE_SKU)])
    proc, url = start_app(tmp_path / "ws")
    requested: list[str] = []
    page.context.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(url)
        page.get_by_role("heading", name="Vitrine — merchandising lab").wait_for()

        # --- Catalog: upload the images with their metadata CSV --------------------------------------------
        open_nav(page, "Catalog", "Catalog")
        upload(page, "Metadata CSV", [metadata])
        upload(page, "Images or .zip", images)
        expect(page.get_by_role("button", name="Ingest")).to_be_enabled()
        page.get_by_role("button", name="Ingest").click()
        page.get_by_text(f"Ingested: {len(skus)} accepted").first.wait_for()
        accepted = page.get_by_test_id("stMetric").filter(has_text="Accepted")
        expect(accepted.get_by_test_id("stMetricValue")).to_have_text(str(len(skus)))

        # --- Prompt Lab: A/B preference@v1 (active) against appearance@v1 on the whole catalogue ------------
        open_nav(page, "Prompt Lab", "Prompt Lab")
        page.get_by_role("tab", name="A/B test").click()
        shows(page, "pl_ab_A_prompt", "preference@v1")
        shows(page, "pl_ab_B_prompt", "appearance@v1")
        expect(keyed(page, "pl_ab_n").locator("input")).to_have_value(str(len(skus)))
        page.get_by_role("button", name="Run A/B").click()
        page.get_by_role("heading", name="Per-side metrics").wait_for()
        settled(page)

        # Blind votes, each a fragment rerun: left on the planted item, right on the next one, tie on the third.
        keyed(page, "pl_blind").get_by_text("Blind vote mode").click()
        clicks = {skus[0]: "left", skus[1]: "right", skus[2]: "tie"}
        for sku, vote in clicks.items():
            button = page.locator(f"[class*='st-key-pl_vote_'][class*='_{sku}_{vote}'] button")
            button.click()
            expect(button).to_have_attribute("data-testid", "stBaseButton-primary")  # the vote is shown as cast
        expect(page.get_by_text("1 ties")).to_be_visible()

        # Promote B: it covers the catalogue already, so it becomes active at once.
        page.get_by_role("button", name="Promote…").click()
        page.get_by_role("button", name="Promote appearance@v1").click()
        flash(page, "is now active for the whole catalogue")
        page.keyboard.press("Escape")

        # --- Description QA on the promoted run: approve (keyboard), flag, edit then approve -----------------
        open_nav(page, "Description QA", "Description QA")
        pick(page, "qa_prompt", "appearance@v1")
        shows(page, "qa_item", f"{HOSTILE_SKU} ·")
        page.get_by_role("heading", name="Review").click()  # the cursor outside any text box, so keys act
        page.keyboard.press("a")
        flash(page, f"Approved {HOSTILE_SKU} (appearance@v1).")
        shows(page, "qa_item", f"{skus[1]} ·")  # the queue moved on
        page.get_by_label("Reason", exact=True).fill("wrong colour")
        page.get_by_label("Reason", exact=True).press("Enter")
        settled(page)
        keyed(page, "qa_flag").get_by_role("button").click()
        flash(page, f"Flagged {skus[1]} (appearance@v1).")
        shows(page, "qa_item", f"{skus[2]} ·")
        page.get_by_label("Edited description").fill(EDITED_TEXT)
        keyed(page, "qa_save").get_by_role("button").click()
        flash(page, f"Saved the revision of {skus[2]}")
        keyed(page, "qa_approve").get_by_role("button").click()
        flash(page, f"Approved {skus[2]} (appearance@v1).")

        # Product copy: the active run, approved only, as CSV.
        page.get_by_test_id("stExpander").filter(has_text="Export product copy").get_by_text(
            "Export product copy").click()
        product_copy = read_csv(download(page, "qa_copy_download", "product_copy.csv"))

        # --- Map diff between the two runs, and its CSV ------------------------------------------------------
        open_nav(page, "Map diff", "Map diff")
        shows(page, "md_before", "preference@v1")
        shows(page, "md_after", "appearance@v1")
        map_diff = read_csv(download(page, "md_download", "map-diff.csv"))

        # --- Back to the A/B: its results and votes survive navigation; download them ------------------------
        open_nav(page, "Prompt Lab", "Prompt Lab")
        page.get_by_role("tab", name="A/B test").click()
        ab = read_csv(download(page, "pl_ab_download_csv", "ab-results.csv"))
        ab_md = download(page, "pl_ab_download_md", "ab-results.md").decode()
        settled(page)
        assert page.get_by_test_id("stException").count() == 0
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "session_walk_failure.png"), full_page=True)
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    assert outside_urls(requested) == [], "no request left 127.0.0.1"

    # Product copy: the two approved items of the promoted run; the edit wins and stays marked; the title is text.
    assert product_copy["sku"].tolist() == [HOSTILE_SKU, skus[2]]
    assert set(product_copy["run"]) == {ab.loc[0, "run B"]}
    assert set(product_copy["status"]) == {"approved"}
    copy = product_copy.set_index("sku")
    assert copy.loc[HOSTILE_SKU, "title"] == "'" + HOSTILE_TITLE
    assert copy.loc[skus[2], "text"] == EDITED_TEXT
    assert copy.loc[skus[2], "edited"] == "True" and copy.loc[HOSTILE_SKU, "edited"] == "False"
    assert copy.loc[HOSTILE_SKU, "text"], "the approved model text is exported"
    assert "green" in copy.loc[HOSTILE_SKU, "colour"], "the facets of appearance@v1 travel with the text"
    assert {"colour", "pattern", "material"} <= set(product_copy.columns)

    # Map diff: every uploaded item compared between the two runs, overlaps are Jaccard indices.
    assert sorted(map_diff["sku"]) == skus
    assert map_diff.set_index("sku").loc[HOSTILE_SKU, "title"] == "'" + HOSTILE_TITLE
    assert map_diff["overlap"].astype(float).between(0, 1).all()

    # A/B: the whole catalogue, A = preference, B = appearance, and exactly the votes cast, on the side shown.
    assert sorted(ab["sku"]) == skus
    run_a, run_b = ab.loc[0, "run A"], ab.loc[0, "run B"]
    assert run_a.startswith("preference@v1") and run_b.startswith("appearance@v1")
    assert (ab["A text"] != "").all() and (ab["B text"] != "").all()
    assert ab.set_index("sku").loc[HOSTILE_SKU, "title"] == "'" + HOSTILE_TITLE
    comparison = ab_id(run_a, run_b)
    other = {"a": "b", "b": "a"}
    expected = {sku: {"tie": "tie", "left": left, "right": other[left]}[vote]  # seed 0: the page's default
                for sku, vote in clicks.items() if (left := left_side(0, comparison, sku))}
    columns = {"a": "votes A", "b": "votes B", "tie": "ties"}
    counted = ab.set_index("sku")[list(columns.values())].astype(int)
    for sku in skus:
        assert counted.loc[sku].to_dict() == {c: int(expected.get(sku) == w) for w, c in columns.items()}, sku
    wins = {w: sum(v == w for v in expected.values()) for w in columns}
    assert f"{wins['b']} B / {wins['a']} A / {wins['tie']} ties" in ab_md
