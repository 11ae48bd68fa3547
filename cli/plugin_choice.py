"""The ``--plugin NAME`` option of the secret verbs (``get``, ``ls``, ``set``, ``rm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.names import KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    import argparse

    from docker_pass.core.remote.front import EngineFront


def add_plugin_option(parser: argparse._ActionsContainer, verb: str) -> None:
    """``--plugin NAME``, defaulting to the keychain plugin as Docker's tool does."""
    parser.add_argument(
        "--plugin",
        default=KEYCHAIN_PLUGIN,
        metavar="NAME",
        help=f"the plugin to {verb} (default: {KEYCHAIN_PLUGIN}, the OS keychain; "
        "see 'docker pass plugins ls')",
    )


def engine_with_plugin(args: argparse.Namespace) -> EngineFront:
    """The engine that reads from ``args.plugin`` (``get``, ``ls``): an embedded one with only
    that plugin when this process can load it (a built-in costs no scan of the installed
    distributions); else the daemon's, which hosts the external plugins (Docker's SDK) that no
    embedded engine can.  Without a daemon, the unknown plugin's error says which external
    plugins it could not ask."""
    from docker_pass.core.engine import Engine, plugin_spec
    from docker_pass.core.errors import UnknownPluginError

    try:
        plugin_spec(args.plugin)
    except UnknownPluginError as exc:
        if getattr(args, "no_daemon", False):
            raise
        from docker_pass.core.remote.front import DaemonOrEmbedded, find_daemon

        client, _ = find_daemon()
        if client is None:
            from docker_pass.core.external import not_asked

            note = not_asked()
            raise exc.with_hints(*exc.hints, *([note] if note else [])) from None
        return DaemonOrEmbedded(client)
    return Engine.for_plugin(args.plugin)
