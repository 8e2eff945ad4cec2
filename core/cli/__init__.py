"""The `vitrine` command line."""
