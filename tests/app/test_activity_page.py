"""The Activity page shows the audit log, filtered by SKU, through the same core function as `vitrine audit`."""

from tests.app.conftest import errors, open_page


def test_activity_lists_changes_and_filters_by_sku(described_lab):
    at = open_page(described_lab.lab, "pages/activity.py")
    assert not at.exception
    assert set(at.dataframe[0].value["action"]) >= {"ingest", "describe"}
    at.text_input(key="act_sku").set_value("NOPE").run()
    assert not at.dataframe and any("No recorded activity" in c.value for c in at.caption)
    at.text_input(key="act_since").set_value("yesterday").run()
    assert any("neither a date" in e for e in errors(at))
