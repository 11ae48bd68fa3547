"""`set`: Set a secret (not built yet)."""

from __future__ import annotations

import argparse

from docker_pass.cli.commands._stub import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("set", help="Set a secret", description="Set a secret.")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=fail)
