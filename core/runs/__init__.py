"""Describe runs over the catalogue: synchronous and Batch API, cached by content key, then embedded."""
