"""`get`: Get a secret from a keystore (not built yet)."""

from __future__ import annotations

import argparse

from docker_pass.cli.commands._stub import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "get", help="Get a secret from a keystore", description="Get a secret from a keystore."
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=fail)
