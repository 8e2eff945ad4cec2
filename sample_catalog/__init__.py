"""Vitrine's procedurally drawn, seeded sample catalogue (run `python sample_catalog/generate.py`)."""
