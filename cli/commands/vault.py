"""`plugins vault setup|purge`: connect the ``vault`` plugin to a Vault / OpenBao KV v2 mount.

``setup`` reads the token (or, with ``--role-id``, the AppRole secret ID) from stdin — or a
prompt that does not echo, on a terminal — and applies the setup form the ``vault`` plugin
describes (:func:`docker_pass.core.setup.apply_setup`, which the TUI's form calls too): the
answers are checked against the server (``lookup-self``, or an AppRole login), then the secret
is stored with the ``docker-pass`` keychain plugin, the rest is written to ``plugins.vault`` in
the config file, and the plugin is enabled.  ``purge`` disables it and removes what was stored.
The token never appears in argv, output or errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO

from docker_pass.core.errors import DockerPassError, UsageError

if TYPE_CHECKING:
    from docker_pass.core.setup import Setup, SetupField, Wording

VAULT_PLUGIN = "vault"
#: The setup form's secret fields (the plugin's ``TOKEN_FIELD`` and ``SECRET_ID_FIELD``).
TOKEN_FIELD = "token"  # noqa: S105 - a field name
SECRET_ID_FIELD = "secret_id"  # noqa: S105 - a field name
SETUP_EXAMPLE = 'echo "$VAULT_TOKEN" | docker pass plugins vault setup --address URL'
APPROLE_EXAMPLE = (
    'echo "$SECRET_ID" | docker pass plugins vault setup --address URL --role-id ROLE_ID'
)

EPILOG = f"""\
examples:
  {SETUP_EXAMPLE} --prefix team
  {APPROLE_EXAMPLE}
  docker pass plugins vault purge

The token (or AppRole secret ID) is read from stdin only (never from the command line), checked
against the server, and stored in the OS keychain by the docker-pass plugin."""


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``vault`` (with ``setup`` and ``purge``) to the ``plugins`` verbs."""
    parser = verbs.add_parser(
        "vault",
        help="Set up or remove the HashiCorp Vault / OpenBao plugin (vault)",
        description="Connect the vault plugin to a KV v2 mount, or remove its token.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="vault_command", metavar="COMMAND", title="commands")
    setup = sub.add_parser(
        "setup",
        help="Check and store a token (from stdin) and enable the vault plugin",
        description=(
            "Read a Vault/OpenBao token from stdin (or, with --role-id, an AppRole secret ID), "
            "check it against the server, store it in the OS keychain, write the address, "
            "mount and prefix to the config file, and enable the vault plugin."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    setup.add_argument("--address", required=True, metavar="URL", help="the server's URL")
    setup.add_argument(
        "--mount", default="secret", metavar="PATH", help="the KV v2 mount (default: secret)"
    )
    setup.add_argument(
        "--prefix", default="", metavar="PATH", help="the ID a/b is the KV path PREFIX/a/b"
    )
    setup.add_argument("--namespace", default="", metavar="NS", help="a Vault namespace")
    setup.add_argument(
        "--ca-cert", default="", metavar="FILE", help="the CA certificate of the server's TLS"
    )
    setup.add_argument(
        "--role-id",
        default="",
        metavar="ROLE_ID",
        help="log in with this AppRole; stdin then holds its secret ID",
    )
    setup.set_defaults(handler=run_setup)
    purge = sub.add_parser(
        "purge",
        help="Disable the vault plugin and remove its token",
        description="Disable the vault plugin and remove its stored token and secret ID.",
    )
    purge.set_defaults(handler=run_purge)
    parser.set_defaults(handler=lambda _args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def vault_setup() -> Setup:
    """The setup form the ``vault`` plugin describes (read through the plugin registry)."""
    from docker_pass.core.setup import find_setup

    setup = find_setup(VAULT_PLUGIN)
    if setup is None:
        raise DockerPassError(f"plugin {VAULT_PLUGIN} cannot be loaded: it has no setup form")
    return setup


def stdin_wording(approle: bool) -> Wording:
    """The form's rules worded for stdin."""
    from docker_pass.core.setup import Wording  # only `setup` needs it (dataclasses: ~15 ms)

    example = APPROLE_EXAMPLE if approle else SETUP_EXAMPLE
    return Wording("stdin", f"pipe it on stdin, as in: {example}")


def read_secret(stdin: TextIO, field: SetupField, wording: Wording) -> str:
    """The token or secret ID from stdin (a prompt without echo on a terminal); required."""
    from dataclasses import replace

    if stdin.isatty():
        import getpass

        raw = getpass.getpass(f"Vault {field.label[:1].lower()}{field.label[1:]}: ")
    else:
        try:
            raw = stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"the {field.noun or 'secret'} on stdin is not UTF-8 text") from None
    return replace(field, required=True).clean(raw, wording)


def run_setup(args: argparse.Namespace) -> int:
    """Check the answers against the server, store the secret, write the settings and enable
    the plugin (:func:`apply_setup`, as the TUI's form does); exit 1 if it does not come up."""
    from docker_pass.cli.plugin_setup import apply_answers
    from docker_pass.core.setup import Answers

    setup = vault_setup()
    approle = bool(args.role_id.strip())
    wording = stdin_wording(approle)
    secret_field = setup.field_named(SECRET_ID_FIELD if approle else TOKEN_FIELD)
    secret = read_secret(sys.stdin, secret_field, wording)
    answers = Answers(
        {
            "address": args.address,
            "mount": args.mount,
            "prefix": args.prefix,
            "namespace": args.namespace,
            "ca_cert": os.path.abspath(args.ca_cert) if args.ca_cert else "",
            "role_id": args.role_id,
            TOKEN_FIELD: "" if approle else secret,
            SECRET_ID_FIELD: secret if approle else "",
        }
    )
    return apply_answers(setup, answers, wording)


def run_purge(args: argparse.Namespace) -> int:
    """Disable the plugin, then remove the token and the secret ID."""
    from docker_pass.cli.plugin_setup import purge
    from docker_pass.core.setup import secret_id

    ids = [secret_id(VAULT_PLUGIN, TOKEN_FIELD), secret_id(VAULT_PLUGIN, SECRET_ID_FIELD)]
    removed = purge(VAULT_PLUGIN, ids, "vault token")
    print("Removed the vault token." if removed else "No vault token was stored.")
    return 0
