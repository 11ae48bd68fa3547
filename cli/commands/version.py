"""`version`: print the version of docker-pass."""

from __future__ import annotations

import json
import platform
from typing import TYPE_CHECKING

from docker_pass.core import __version__

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "version", help="Show the docker-pass version", description="Show the docker-pass version."
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    info = {"version": __version__, "python": platform.python_version()}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"docker-pass version {__version__} (python {info['python']})")
    return 0
