"""`--engine local|ray` for the commands whose offline jobs can run on Ray (sync, describe)."""

from __future__ import annotations

import argparse

from core.engines import ENGINES, get_engine
from core.engines.base import Engine


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="where the encoders, describer and index builds run: local (this process) or ray (Ray "
                             "Data over the Lance tables: a single-node cluster here, or RAY_ADDRESS's); needs "
                             "the `vitrine[ray]` extra")


def engine_of(args: argparse.Namespace) -> Engine:
    return get_engine(args.engine)
