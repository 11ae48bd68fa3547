"""`undelete ID… --plugin NAME`: restore secrets whose latest version was deleted.

Its own verb rather than a flag of ``rm``: it undoes a removal, it takes none of ``rm``'s
flags (``--all``, ``--purge-versions``), and the engine has one method per verb
(:meth:`~docker_pass.core.engine.Engine.undelete`).  Only a plugin that keeps deleted
versions can (vault); ``ls --deleted`` shows which secrets are deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.ids import ID

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "undelete",
        help="Restore deleted secrets (plugins that keep deleted versions: vault)",
        description=(
            "Restore the latest version of secrets that 'rm' deleted, in a plugin that keeps "
            "deleted versions (vault: its older versions stay after 'rm'; 'ls --deleted' lists "
            "the deleted secrets). Prints 'RESTORED: <id>' for each restored secret and "
            "'ERR: <id>: <error>' for each failure (a live secret, a destroyed version). "
            "A secret purged with 'rm --purge-versions' cannot be restored."
        ),
    )
    parser.add_argument("names", nargs="+", metavar="ID", help="IDs to restore")
    add_plugin_option(parser, "restore in")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.cli.commands.engine import front_for_plugin

    ids = sorted({ID.parse(name) for name in args.names})
    # Through the daemon when it runs (its listing then shows the secret again at once), else
    # an embedded engine that starts only that plugin.
    with front_for_plugin(args) as engine:
        return render.restoration(engine.undelete(ids, plugin=args.plugin))
