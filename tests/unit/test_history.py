import pytest

from core.catalog.history import restore_version, table_history, undo_last_delete
from core.errors import VitrineError
from core.represent.representations import build_title


def test_delete_then_undo_restores_items_and_vectors(stocked_lab):
    build_title(stocked_lab)
    table = stocked_lab.store.representation("title")["table"]
    assert stocked_lab.store.delete_items(["A1", "B1"]) == 2
    assert set(stocked_lab.store.items()["sku"]) == {"A2", "A3", "B2", "H1"}
    assert len(stocked_lab.store.vectors(table)[0]) == 4
    assert sorted(undo_last_delete(stocked_lab.store)) == ["A1", "B1"]
    assert len(stocked_lab.store.items()) == 6
    assert len(stocked_lab.store.vectors(table)[0]) == 6
    with pytest.raises(VitrineError, match="nothing to undo"):
        undo_last_delete(stocked_lab.store)


def test_restore_any_version_keeps_history(stocked_lab):
    history = table_history(stocked_lab.store, "items")
    stocked_lab.store.delete_items(["A1"])
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
    stocked_lab.store.delete_items(["H1"])
    assert main(["history", "--table", "items", "--workspace", ws]) == 0
    assert "version" in capsys.readouterr().out
    assert main(["restore", "--undo-delete", "--workspace", ws]) == 0
    assert "restored: H1" in capsys.readouterr().out
    assert main(["restore", "999", "--table", "items", "--workspace", ws]) == 2
    assert "no version 999" in capsys.readouterr().err
