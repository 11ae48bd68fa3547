"""`run`: Run a command with se:// environment references resolved (not built yet)."""

from __future__ import annotations

import argparse

from docker_pass.cli.commands._stub import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="Run a command with se:// environment references resolved",
        description="Run a command with se:// environment references resolved.",
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=fail)
