"""Evaluation → "Open in Shopper Simulator" in Chromium: the simulator opens at its top (AppTest cannot see scrolling),
on the chosen shopper, with both compared representations and the held-out test item."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.represent.representations import build_metadata
from tests.app.test_browser import ARTIFACTS, CHROMIUM, launch, outside_urls, settled
from tests.evaluation_catalogue import ingested_catalogue
from tests.fakes import FakeDescriber
from ui.server import start_app

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]

RUN = "preference@v1/fake/fake-1"  # A: the paired comparison's default
OTHER = "metadata"  # B: a second stored representation that ranks some shoppers differently from RUN
WAIT = 90_000  # ms: the machine is shared; every wait is for a visible outcome
SCORED = re.compile(r"^\S+ · -?\d\.\d{3}$")  # a recommendation thumbnail's caption: 'SKU · 0.812'
IMAGES_LOADED = "() => [...document.querySelectorAll('[data-testid=stMain] img')].every(i => i.complete)"
SCROLL_TOP = "() => document.querySelector('[data-testid=stMain]').scrollTop"  # Streamlit's main scroll container


@pytest.fixture
def served(tmp_path):
    """The smallest workspace the Evaluation floors accept (60 items, 60 shoppers), served as deployed."""
    lab = open_lab(tmp_path / "ws", encoder=HashEncoder(), describers={"fake": FakeDescriber()})
    ingested_catalogue(lab, tmp_path / "imgs")
    build_metadata(lab)
    lab.store.set_setting("active_provider", "offline")  # the served app has no 'fake' describer to make active
    proc, url = start_app(tmp_path / "ws")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def page():
    with playwright.sync_playwright() as pw:
        browser = launch(pw)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.set_default_timeout(WAIT)
        expect.set_options(timeout=WAIT)
        yield pg
        expect.set_options()  # back to Playwright's default for the tests that follow
        browser.close()


def test_open_in_shopper_simulator_lands_at_the_top_with_the_comparison(served, page):
    requested: list[str] = []
    page.context.on("request", lambda r: requested.append(r.url))
    page.goto(f"{served}/evaluation")
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_role("heading", name="Paired comparison").wait_for()
    settled(page)
    b_box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("B", exact=True)).get_by_role("combobox")
    b_box.click()
    b_box.press("ArrowDown")  # opens the option list
    page.get_by_role("option", name=OTHER, exact=True).click()
    settled(page)

    row = page.get_by_test_id("stText").filter(has_text=re.compile(r" · test: ")).first.inner_text()
    shopper, held_out = row.split(":", 1)[0], row.split("test: ")[-1].split()
    assert row.startswith(f"{shopper}: A ") and held_out, row
    button = page.get_by_role("button", name="Open in Shopper Simulator").first  # the same (first) row's button
    button.scroll_into_view_if_needed()
    assert page.evaluate(SCROLL_TOP) > 0, "the reviewer scrolled the Evaluation page down to reach the button"
    button.click()

    title = page.get_by_role("heading", name="Shopper simulator")
    title.wait_for()
    expect(page).to_have_url(re.compile(r"/shopper$"))  # the link was applied once and left the URL
    expect(page.locator(".st-key-shopper_sample").get_by_role("combobox")).to_have_value(
        re.compile("^" + re.escape(f"{shopper} (")))
    expect(page.locator(".st-key-shopper_rep").get_by_role("combobox")).to_have_value(
        re.compile("^" + re.escape(RUN)))
    expect(page.locator(".st-key-shopper_rep_b").get_by_role("combobox")).to_have_value(
        re.compile("^" + re.escape(OTHER)))
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Held out by the evaluation")).to_contain_text(
        held_out[0])
    held_thumb = page.get_by_test_id("stImageCaption").filter(has_text=re.compile(f"^{re.escape(held_out[0])} · "))
    expect(held_thumb.filter(has_not_text=SCORED)).to_have_count(1)  # shown on its own, above the history
    expect(page.get_by_text(f"held-out {held_out[0]}: ")).to_have_count(2)  # ranked in both lists
    expect(page.get_by_test_id("stImageCaption").filter(has_text=SCORED)).to_have_count(20)  # both top-10s drawn
    settled(page)
    page.wait_for_function(IMAGES_LOADED)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "shopper_from_evaluation.png"))
    assert page.evaluate(SCROLL_TOP) == 0, "the simulator opened scrolled down"
    expect(title).to_be_in_viewport()
    assert requested and outside_urls(requested) == []
