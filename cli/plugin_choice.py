"""The ``--plugin NAME`` option of the secret verbs (``get``, ``ls``, ``set``, ``rm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.names import KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    import argparse


def add_plugin_option(parser: argparse._ActionsContainer, verb: str) -> None:
    """``--plugin NAME``, defaulting to the keychain plugin as Docker's tool does."""
    parser.add_argument(
        "--plugin",
        default=KEYCHAIN_PLUGIN,
        metavar="NAME",
        help=f"the plugin to {verb} (default: {KEYCHAIN_PLUGIN}, the OS keychain; "
        "see 'docker pass plugins ls')",
    )
