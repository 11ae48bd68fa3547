"""`get NAME`: show a secret from the keychain, masked unless --reveal."""

from __future__ import annotations

import argparse
import sys

from docker_pass.core.ids import ID

MASKED_VALUE = "**********"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "get",
        help="Get a secret from a keystore",
        description=(
            "Get a secret from a keystore. The value is masked unless you pass --reveal, "
            "which prints the value alone (for $(docker pass get --reveal NAME))."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the secret's ID")
    parser.add_argument("--reveal", action="store_true", help="print the value itself")
    parser.add_argument(
        "--json", action="store_true", help="print id, provider, metadata (and value with --reveal)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.keychain import open_keychain

    id_ = ID.parse(args.name)
    keychain = open_keychain()
    try:
        envelope = keychain.get(id_)
    finally:
        keychain.stop()
    if args.json:
        import base64
        import json

        doc: dict[str, object] = {
            "id": envelope.id.value,
            "provider": envelope.provider,
            "metadata": dict(envelope.metadata),
        }
        if args.reveal:
            try:
                doc["value"] = envelope.value.decode()
            except UnicodeDecodeError:
                doc["value_base64"] = base64.b64encode(envelope.value).decode()
        print(json.dumps(doc, indent=2))
    elif args.reveal:
        sys.stdout.flush()
        sys.stdout.buffer.write(envelope.value)
        if sys.stdout.isatty():
            sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()
    else:
        print(f"ID: {envelope.id.value}\nValue: {MASKED_VALUE}")
    return 0
