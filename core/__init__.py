"""Vitrine core: everything the app and CLI do, with no UI dependency."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vitrine")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
