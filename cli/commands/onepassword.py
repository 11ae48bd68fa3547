"""`plugins 1password setup|purge`: the service account token of the ``1password-sdk`` plugin.

``setup`` reads the token from stdin (or a prompt that does not echo, on a terminal) and applies
the setup form ``1password-sdk`` describes (:func:`docker_pass.core.setup.apply_setup`, which the
TUI's setup form calls too, so both say the same): the token is checked, then stored with the
``docker-pass`` keychain plugin under the internal realm, replacing any earlier token, and
``1password-sdk`` is enabled.  ``purge`` disables the plugin and removes the token.  The token
never appears in argv, output or errors.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.names import SETUP_REALM

if TYPE_CHECKING:
    from docker_pass.core.setup import Setup, Wording

SDK_PLUGIN = "1password-sdk"
#: Where the token is kept; the same as ``docker_pass.backends.onepassword.sdk_plugin.TOKEN_ID``
#: (a test checks they agree: the CLI reaches backends only through the plugin registry).
TOKEN_ID = f"{SETUP_REALM}/{SDK_PLUGIN}/service-account-token"
SETUP_EXAMPLE = 'echo "$OP_SERVICE_ACCOUNT_TOKEN" | docker pass plugins 1password setup'

EPILOG = f"""\
examples:
  {SETUP_EXAMPLE}
  docker pass plugins 1password purge

The token is read from stdin only (never from the command line). It is stored in the OS keychain
by the docker-pass plugin, replacing any earlier token."""


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``1password`` (with ``setup`` and ``purge``) to the ``plugins`` verbs."""
    parser = verbs.add_parser(
        "1password",
        help="Set up or remove the 1Password service account plugin (1password-sdk)",
        description="Store or remove the service account token of the 1password-sdk plugin.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="onepassword_command", metavar="COMMAND", title="commands")
    setup = sub.add_parser(
        "setup",
        help="Store a service account token (from stdin) and enable 1password-sdk",
        description=(
            "Read a 1Password service account token from stdin, store it in the OS keychain "
            "(replacing any earlier one) and enable the 1password-sdk plugin."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    setup.set_defaults(handler=run_setup)
    purge = sub.add_parser(
        "purge",
        help="Disable 1password-sdk and remove its token",
        description="Disable the 1password-sdk plugin and remove its stored token.",
    )
    purge.set_defaults(handler=run_purge)
    parser.set_defaults(handler=lambda _args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def stdin_wording() -> Wording:
    """The setup form's rules worded for the command line (the TUI words them for a field)."""
    from docker_pass.core.setup import Wording  # only `setup` needs it (dataclasses: ~15 ms)

    return Wording("stdin", f"pipe it on stdin, as in: {SETUP_EXAMPLE}")


def sdk_setup() -> Setup:
    """The setup form ``1password-sdk`` describes (read through the plugin registry)."""
    from docker_pass.core.setup import find_setup

    setup = find_setup(SDK_PLUGIN)
    if setup is None:
        raise DockerPassError(f"plugin {SDK_PLUGIN} cannot be loaded: it has no setup form")
    return setup


def read_token(stdin: TextIO, setup: Setup | None = None) -> str:
    """The token from stdin, or typed at a prompt that does not echo when stdin is a terminal;
    checked by the same rules as the TUI's setup form (worded for stdin)."""
    setup = setup or sdk_setup()
    (field,) = setup.fields
    if stdin.isatty():
        import getpass

        raw = getpass.getpass(f"1Password {field.label[:1].lower()}{field.label[1:]}: ")
    else:
        try:
            raw = stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the token on stdin is not UTF-8 text") from None
    return field.clean(raw, stdin_wording())


def run_setup(args: argparse.Namespace) -> int:
    """Check the token, store it, then enable the plugin; exit 1 if it does not come up."""
    from docker_pass.cli.plugin_setup import apply_answers
    from docker_pass.core.setup import Answers

    setup = sdk_setup()
    (field,) = setup.fields
    answers = Answers({field.name: read_token(sys.stdin, setup)})
    return apply_answers(setup, answers, stdin_wording())


def run_purge(args: argparse.Namespace) -> int:
    """Disable the plugin, then remove the token."""
    from docker_pass.cli.plugin_setup import purge
    from docker_pass.core.ids import ID

    removed = purge(SDK_PLUGIN, [ID(TOKEN_ID)], "token")
    print(
        "Removed the 1Password service account token."
        if removed
        else "No 1Password service account token was stored."
    )
    return 0
