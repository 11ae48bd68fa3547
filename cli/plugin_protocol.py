"""The Docker CLI plugin protocol.

Docker finds ``docker-pass`` in a ``cli-plugins`` directory, asks it for metadata with
``docker-pass docker-cli-plugin-metadata``, and then runs ``docker-pass pass ARGS…`` for
``docker pass ARGS…``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.core import __version__
from docker_pass.core.names import PROGRAM

if TYPE_CHECKING:
    from collections.abc import Sequence

METADATA_COMMAND = "docker-cli-plugin-metadata"
PLUGIN_NAME = "pass"
# Set by docker for the plugins it runs.
DOCKER_ENV = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"


def metadata() -> dict[str, str]:
    """The metadata docker reads to list and run the plugin."""
    return {
        "SchemaVersion": "0.1.0",
        "Vendor": PROGRAM,
        "Version": f"v{__version__}",
        "ShortDescription": "Manage secrets and resolve se:// references",
        "URL": "https://github.com/docker-pass/docker-pass",
    }


def print_metadata() -> None:
    """Print the metadata as docker expects it: one JSON object on stdout."""
    import json

    print(json.dumps(metadata(), indent=2))


def running_under_docker(argv: Sequence[str]) -> bool:
    """Whether docker ran us as a plugin (it passes the plugin's name as the first argument)."""
    return bool(argv) and argv[0] == PLUGIN_NAME


def program_name(under_docker: bool) -> str:
    """How usage lines name the program: as the person typed it."""
    return "docker pass" if under_docker or DOCKER_ENV in os.environ else PROGRAM
