"""Property-based tests of metadata CSV parsing and SKU validation."""

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalog.ingest import MetadataError, read_metadata, validate_sku

cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30)


@given(st.binary(max_size=400))
@settings(max_examples=150)
def test_arbitrary_bytes_parse_or_raise_metadata_error(data):
    try:
        rows = read_metadata(data)
    except MetadataError as exc:
        assert str(exc).startswith("metadata CSV: ")
    else:
        assert all("sku" in r and "image" in r for r in rows.values())


@given(st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=8))
def test_written_rows_round_trip(rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["sku", "image", "brand"])
    for i, (sku, brand, _) in enumerate(rows):
        writer.writerow([sku, f"img{i}.png", brand])
    parsed = read_metadata(buf.getvalue().encode())
    for i, (sku, brand, _) in enumerate(rows):
        assert parsed[f"img{i}.png"]["sku"] == sku.strip()
        assert parsed[f"img{i}.png"]["brand"] == brand.strip()


@given(st.text(max_size=80))
def test_accepted_skus_are_path_safe(sku):
    try:
        clean = validate_sku(sku)
    except ValueError as exc:
        assert "SKU" in str(exc) or "empty" in str(exc)
    else:
        assert clean == clean.strip() and 1 <= len(clean) <= 64
        assert not {"/", "\\", "\x00"} & set(clean) and ".." not in clean
