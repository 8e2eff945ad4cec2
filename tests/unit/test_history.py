import pytest

from core.catalog.history import delete_items, restore_version, table_history, undo_last_delete
from core.catalog.journal import last_entry, undo
from core.errors import VitrineError
from core.represent.representations import build_title


def test_delete_then_undo_restores_items_and_vectors(stocked_lab):
    build_title(stocked_lab)
    table = stocked_lab.store.representation("title")["table"]
    assert delete_items(stocked_lab.store, ["A1", "B1"]) == 2
    assert set(stocked_lab.store.items()["sku"]) == {"A2", "A3", "B2", "H1"}
    assert len(stocked_lab.store.vectors(table)[0]) == 4
    report = undo_last_delete(stocked_lab.store)
    assert report.restored == {"items": ["A1", "B1"], "title": ["A1", "B1"]} and report.kept == {}
    assert len(stocked_lab.store.items()) == 6
    assert len(stocked_lab.store.vectors(table)[0]) == 6
    with pytest.raises(VitrineError, match="nothing to undo"):
        undo_last_delete(stocked_lab.store)


def test_restore_any_version_keeps_history(stocked_lab):
    history = table_history(stocked_lab.store, "items")
    delete_items(stocked_lab.store, ["A1"])
    new_version = restore_version(stocked_lab.store, "items", history[-1]["version"])
    after = table_history(stocked_lab.store, "items")
    assert after[-1]["version"] == new_version and after[-1]["rows"] == 6
    assert len(after) == len(history) + 2  # the delete and the restore are both versions


def test_restore_errors_are_specific(stocked_lab):
    with pytest.raises(VitrineError, match="no version 999"):
        restore_version(stocked_lab.store, "items", 999)
    with pytest.raises(VitrineError, match="no table named 'nope'"):
        table_history(stocked_lab.store, "nope")


def test_cli_history_and_undo_delete(stocked_lab, capsys):
    from core.cli.main import main

    ws = str(stocked_lab.workspace.root)
    delete_items(stocked_lab.store, ["H1"])
    assert main(["history", "--table", "items", "--workspace", ws]) == 0
    assert "version" in capsys.readouterr().out
    assert main(["restore", "--undo-delete", "--workspace", ws]) == 0
    assert "items: brought back 1 row(s): H1" in capsys.readouterr().out
    assert main(["restore", "999", "--table", "items", "--workspace", ws]) == 2
    assert "no version 999" in capsys.readouterr().err


def test_undo_delete_keeps_items_ingested_and_titles_edited_since(stocked_lab, tmp_path):
    from core.catalog.ingest import ingest
    from tests.fakes import png_bytes

    build_title(stocked_lab)
    table = stocked_lab.store.representation("title")["table"]
    delete_items(stocked_lab.store, ["A1"])
    assert ingest(stocked_lab.store, stocked_lab.images, [], uploads=[("N1.png", png_bytes("green"))]).accepted == 1
    edited = stocked_lab.store.items().set_index("sku").loc["B1"].to_dict()
    stocked_lab.store.upsert_items([{**edited, "sku": "B1", "title": "Edited Tote"}])
    build_title(stocked_lab)
    undo_last_delete(stocked_lab.store)
    items = stocked_lab.store.items().set_index("sku")
    assert set(items.index) == {"A1", "A2", "A3", "B1", "B2", "H1", "N1"}  # the later ingest survives
    assert items.loc["B1", "title"] == "Edited Tote"  # and so does the later edit
    assert items.loc["A1", "title"] == "Red Linen Shirt"
    assert set(stocked_lab.store.vectors(table)[0]) == set(items.index)


def test_undo_keeps_a_row_changed_since_and_says_so(stocked_lab):
    delete_items(stocked_lab.store, ["A1", "A2"])
    item = {"sku": "A1", "title": "A new A1", "category": "apparel", "image_sha256": "0" * 64, "image_ext": "png",
            "extra": "{}", "added_at": "2026-01-01T00:00:00+00:00"}
    stocked_lab.store.upsert_items([item])  # SKU A1 re-used since the delete
    report = undo(stocked_lab.store)
    assert report.restored == {"items": ["A2"]} and report.kept == {"items": ["A1"]}
    assert "items: kept 1 row(s) changed since: A1" in report.lines()
    items = stocked_lab.store.items().set_index("sku")
    assert items.loc["A1", "title"] == "A new A1" and items.loc["A2", "title"] == "Blue Linen Shirt"


def test_restore_is_undoable_and_the_undo_keeps_later_rows(stocked_lab):
    version = table_history(stocked_lab.store, "items")[-1]["version"]
    stocked_lab.store.upsert_items([{**stocked_lab.store.items().set_index("sku").loc["B2"].to_dict(), "sku": "B2",
                                     "title": "Renamed Tote"}])
    restore_version(stocked_lab.store, "items", version)  # throws the rename away...
    assert stocked_lab.store.items().set_index("sku").loc["B2", "title"] == "Red Leather Tote"
    assert last_entry(stocked_lab.store).brings_back == "the rows of items as they were before the restore"
    delete_items(stocked_lab.store, ["H1"])  # later work, which the restore's undo must keep
    undo(stocked_lab.store, "restore")  # ...and undo brings it back
    items = stocked_lab.store.items().set_index("sku")
    assert items.loc["B2", "title"] == "Renamed Tote" and "H1" not in items.index
    with pytest.raises(VitrineError, match="undo journal itself"):
        restore_version(stocked_lab.store, "undo_journal", 1)


def test_undo_walks_back_one_action_at_a_time(stocked_lab):
    delete_items(stocked_lab.store, ["A1"])
    delete_items(stocked_lab.store, ["B1"])
    assert last_entry(stocked_lab.store).summary == "deleted 1 item(s): B1"
    assert undo(stocked_lab.store).restored == {"items": ["B1"]}
    assert undo(stocked_lab.store).restored == {"items": ["A1"]}
    with pytest.raises(VitrineError, match="nothing to undo"):
        undo(stocked_lab.store)


def test_the_journal_stays_small(stocked_lab, monkeypatch):
    from core.catalog import journal

    monkeypatch.setattr(journal, "KEEP_ENTRIES", 3)
    for sku in ["A1", "A2", "A3", "B1", "B2"]:
        delete_items(stocked_lab.store, [sku])
    entries = stocked_lab.store.frame(journal.JOURNAL_TABLE, journal.JOURNAL_SCHEMA)["entry"].unique()
    assert len(entries) == 3
    assert [undo(stocked_lab.store).restored["items"] for _ in range(3)] == [["B2"], ["B1"], ["A3"]]


def test_cli_delete_undo_and_doctor(stocked_lab, capsys):
    from core.cli.main import main

    build_title(stocked_lab)
    ws = str(stocked_lab.workspace.root)
    assert main(["delete", "A1", "B2", "--workspace", ws]) == 0
    assert "deleted 2 item(s)" in capsys.readouterr().out
    assert main(["delete", "A1", "ZZ", "--workspace", ws]) == 2
    assert "nothing deleted: unknown SKU(s) A1, ZZ" in capsys.readouterr().err
    assert main(["undo", "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert "brings back 2 item(s) (A1, B2) and their 2 vector(s) in 1 representation(s)" in out
    assert "items: brought back 2 row(s): A1, B2" in out
    assert main(["undo", "--workspace", ws]) == 2
    assert "nothing to undo" in capsys.readouterr().err
    assert main(["doctor", "--workspace", ws]) == 0
    assert "visual: embedded 6 missing vector(s)" in capsys.readouterr().out
