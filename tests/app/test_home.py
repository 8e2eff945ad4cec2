from tests.app.conftest import open_page


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


def test_home_on_empty_workspace_offers_sample(lab):
    at = open_page(lab)
    assert not at.exception
    assert any(b.label == "Build sample workspace" for b in at.button)
