"""A catalogue that outgrew its representations: an item ingested without keeping any representation in step."""

from __future__ import annotations

from pathlib import Path

from core.catalog.ingest import ingest
from core.lab import Lab
from tests.fakes import write_catalog

NEW_ITEM = {"sku": "N1", "title": "Green Wool Scarf", "category": "accessories", "colour": "green"}


def add_unsynced_item(lab: Lab, folder: Path) -> str:
    """N1 enters the catalogue (7 items) but no representation: each now covers 6 of 7."""
    assert ingest(lab.store, lab.images, [folder], write_catalog(folder, [NEW_ITEM])).accepted == 1
    return NEW_ITEM["sku"]


def names(options: list[str]) -> list[str]:
    """Representation names from a picker's labels ('title · 6 of 7 items')."""
    return [option.split(" · ")[0] for option in options]
