"""`ui`: Browse and edit secrets in a terminal UI (not built yet)."""

from __future__ import annotations

import argparse

from docker_pass.cli.commands._stub import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ui",
        help="Browse and edit secrets in a terminal UI",
        description="Browse and edit secrets in a terminal UI.",
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=fail)
