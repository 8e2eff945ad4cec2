"""A cold-start preview carries the pool its neighbours came from: against a partial representation the page can say
that neighbours, duplicates and reach only count the items that representation covers."""

from core.catalog.ingest import ingest
from core.services.coldstart import preview
from tests.fakes import png_bytes, write_catalog

NEW = [{"sku": "N1", "title": "Green Wool Scarf", "category": "accessories", "colour": "green"},
       {"sku": "N2", "title": "Red Wool Scarf", "category": "accessories", "colour": "red"}]


def test_a_preview_against_a_partial_representation_carries_its_pool(described_lab, tmp_path):
    lab, rep = described_lab
    full = preview(lab, png_bytes("green", shape="circle"), "Green Wool Scarf", "accessories")
    assert (full.pool.covered, full.pool.catalogue, full.pool.partial) == (6, 6, False)
    assert ingest(lab.store, lab.images, [tmp_path / "new"], write_catalog(tmp_path / "new", NEW)).accepted == 2
    p = preview(lab, png_bytes("green", shape="circle"), "Green Wool Scarf", "accessories")
    assert p.representation == rep and (p.pool.covered, p.pool.catalogue, p.pool.partial) == (6, 8, True)
    assert not {"N1", "N2"} & {r.sku for r in p.neighbours}
