"""`rm`: Remove secrets from local keychain (not built yet)."""

from __future__ import annotations

import argparse

from docker_pass.cli.commands._stub import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "rm",
        help="Remove secrets from local keychain",
        description="Remove secrets from local keychain.",
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=fail)
