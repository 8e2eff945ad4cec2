from core.represent.coverage import coverage
from tests.app.conftest import open_page
from tests.app.partial import add_unsynced_item

PAGE = "pages/home.py"  # opened by path: a click on the default route is dropped by AppTest's first-link rerun
COVERAGE_COLUMNS = ["name", "kind", "dim", "count", "catalogue", "coverage", "stale", "missing"]


def test_home_shows_summary_and_offline_notice(app_lab, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    at = open_page(app_lab)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items"] == "6"
    assert metrics["Representations"] == "3"
    assert any("not an LVLM" in w.value for w in at.warning)


def test_representations_table_shows_coverage(app_lab, tmp_path):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab)
    table = at.dataframe[0].value
    assert table.columns.tolist() == COVERAGE_COLUMNS
    title = table.set_index("name").loc["title"]
    assert (title["count"], title["catalogue"], title["stale"], title["missing"]) == (6, 7, 0, 1)
    assert title["coverage"] == round(6 / 7, 4)


def test_sync_now_shows_the_estimate_then_completes_every_representation(app_lab, tmp_path, fake_describer):
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE)
    assert "preference@v1/fake/fake-1: 1 item(s) to describe via fake/fake-1: free (runs locally)" in \
        [t.value for t in at.text]
    assert not at.checkbox  # a local provider needs no consent
    calls = len(fake_describer.calls)
    at.button(key="home_sync").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == "Synced."
    assert len(fake_describer.calls) == calls + 1  # only the new item is described
    assert all(coverage(app_lab, n).complete for n in ("title", "visual", "preference@v1/fake/fake-1"))
    assert "preference@v1/fake/fake-1: nothing to describe" in [t.value for t in at.text]
    table = at.dataframe[0].value.set_index("name")
    assert table.loc["title", "count"] == 7 and table.loc["visual", "missing"] == 0


def test_a_hosted_provider_needs_consent_before_sync_sends_anything(app_lab, tmp_path, fake_describer):
    fake_describer.needs_key = True  # stands in for a keyed, possibly paid, API
    add_unsynced_item(app_lab, tmp_path / "new")
    at = open_page(app_lab, PAGE)
    assert at.button(key="home_sync").disabled
    calls = len(fake_describer.calls)
    at.checkbox(key="home_sync_consent").check().run()
    assert not at.button(key="home_sync").disabled
    at.button(key="home_sync").click().run()
    assert not at.exception and not at.error
    assert len(fake_describer.calls) == calls + 1
    assert coverage(app_lab, "preference@v1/fake/fake-1").complete


def test_home_on_empty_workspace_offers_sample(lab):
    at = open_page(lab)
    assert not at.exception
    assert any(b.label == "Build sample workspace" for b in at.button)
    assert not [b for b in at.button if b.key == "home_sync"]  # nothing to sync yet
