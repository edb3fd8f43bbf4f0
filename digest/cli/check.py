"""`digest check`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="(not yet built)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    raise NotImplementedError
