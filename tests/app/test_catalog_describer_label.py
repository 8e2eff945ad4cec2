"""The Catalog page names the active describer by its own label when it is no LVLM: the simulated LVLM is never
called the offline tagger."""

from tests.app.conftest import open_page


def test_a_simulated_active_provider_is_named_as_simulated_not_as_the_tagger(stocked_lab):
    stocked_lab.store.set_setting("active_provider", "simulated")
    stocked_lab.store.set_setting("active_model", "simulated-p0.75")
    at = open_page(stocked_lab, "pages/catalog.py")
    warnings = [w.value for w in at.warning if "not an LVLM" in w.value]
    assert not at.exception and len(warnings) == 1
    assert "simulated LVLM (sample ground truth, accuracy 0.75)" in warnings[0].replace("\\", "")
    assert "tagger" not in warnings[0] and "ImageNet" not in warnings[0]
