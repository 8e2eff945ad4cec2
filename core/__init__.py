"""Vitrine core: everything the app and CLI do, with no UI dependency."""
