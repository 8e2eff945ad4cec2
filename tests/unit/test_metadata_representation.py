"""The `metadata` representation: the catalogue's own attribute columns as text, kept in step, with coverage and
staleness like any other, and offered in every comparison (fakes only)."""

import pytest

from core.catalog.ingest import ingest
from core.errors import VitrineError
from core.evaluation.baselines import default_specs, evaluation_choices
from core.represent.coverage import coverage, list_representations
from core.represent.representations import METADATA, build_metadata, metadata_columns, metadata_text
from core.services import sync
from core.services.upkeep import update_items
from tests.fakes import png_bytes

CSV = (b"sku,title,category,image,product_id,style,material,colour,price,weight_kg,image_url,ean,usage_context,notes\n"
       b"M1,Black Leather Tote,bags,m1.png,9001,classic,leather,black,120.00,0.8,http://x/m1.png,4006381333931,"
       b"office commute,\n"
       b"M2,Red Linen Shirt,apparel,m2.png,9002,bohemian,linen,red,45,0.2,http://x/m2.png,4006381333948,,\n"
       b"M3,Blue Vase,home,m3.png,9003,,,,30,1.5,http://x/m3.png,4006381333955,,\n")


@pytest.fixture
def attributed_lab(lab, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for n, (sku, colour) in enumerate((("m1", "black"), ("m2", "red"), ("m3", "blue"))):
        (folder / f"{sku}.png").write_bytes(png_bytes(colour) + bytes([n]))
    assert ingest(lab.store, lab.images, [folder], CSV).accepted == 3
    return lab


@pytest.fixture
def in_step(monkeypatch):
    """keep_in_step without the real EfficientNet: visual is stubbed, title and metadata are real."""
    monkeypatch.setattr(sync, "build_visual", lambda lab, engine: "visual")
    return sync.keep_in_step


def test_descriptive_text_columns_are_kept_identifiers_links_and_numbers_are_not(attributed_lab):
    items = attributed_lab.store.items()
    assert metadata_columns(items) == ["style", "material", "colour", "usage_context"]
    texts = {r["sku"]: metadata_text(r, metadata_columns(items)) for r in items.to_dict("records")}
    assert texts["M1"] == "style: classic; material: leather; colour: black; usage context: office commute"
    assert texts["M2"] == "style: bohemian; material: linen; colour: red"  # empty cells are left out
    assert texts["M3"] == ""


def test_built_embedded_and_known_to_coverage(attributed_lab, in_step):
    assert in_step(attributed_lab) == ["title", "visual", METADATA]
    fact = coverage(attributed_lab, METADATA)
    assert (fact.kind, fact.covered, fact.catalogue, fact.missing) == ("metadata", 2, 3, ("M3",))  # no attributes
    listed = list_representations(attributed_lab).set_index("name").loc[METADATA]
    assert (listed["kind"], listed["count"], listed["stale"]) == ("metadata", 2, 0)


def test_an_attribute_edit_re_embeds_only_that_item_at_once(attributed_lab, in_step):
    """A Catalog edit is an input of `metadata`: the edited item's vector follows it, the others stay as they were."""
    lab = attributed_lab
    in_step(lab)
    shas = lab.store.vector_text_shas("vec_metadata")
    row = lab.store.items().set_index("sku").loc["M1"]
    assert update_items(lab, [{"sku": "M1", "title": row["title"], "category": row["category"],
                               "material": "suede"}]) == 1
    after = lab.store.vector_text_shas("vec_metadata")
    assert after["M1"] != shas["M1"] and after["M2"] == shas["M2"]
    assert coverage(lab, METADATA).stale == () and coverage(lab, "title").complete


def test_a_catalogue_without_attribute_columns_has_no_metadata_and_says_why(stocked_lab, in_step):
    lab = stocked_lab  # its only extra column is style
    assert in_step(lab) == ["title", "visual", METADATA]
    lab.store.upsert_items([{**r, "extra": "{}"} for r in lab.store.items()[
        ["sku", "title", "category", "image_sha256", "image_ext", "added_at"]].to_dict("records")])
    assert in_step(lab) == ["title", "visual"]
    with pytest.raises(VitrineError, match="no attribute columns .*material, style, occasion"):
        build_metadata(lab)


def test_complete_metadata_is_preselected_for_comparison(stocked_lab):
    build_metadata(stocked_lab)  # every item has a style
    assert METADATA in default_specs(stocked_lab)


def test_partial_metadata_is_offered_but_not_preselected(attributed_lab):
    build_metadata(attributed_lab)  # M3 has no attribute at all
    choices = evaluation_choices(attributed_lab)
    assert METADATA in choices.options and METADATA not in choices.defaults
