"""`ls [PATTERN]`: list the keychain's secret IDs (alias: list)."""

from __future__ import annotations

import argparse
import json

from docker_pass.core.ids import Pattern


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ls",
        aliases=["list"],
        help="List all secrets from local keychain",
        description="List the IDs of the secrets in the local keychain, sorted.",
    )
    parser.add_argument(
        "pattern", nargs="?", default="**", metavar="PATTERN", help="only IDs matching this pattern"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (id, provider, metadata)")
    output.add_argument("-l", "--long", action="store_true", help="show provider and metadata")
    parser.add_argument(
        "--all-realms",
        action="store_true",
        help="include internal secrets (docker/secrets-engine/**)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.keychain import open_keychain
    from docker_pass.core.plugin import INTERNAL_REALM

    pattern = Pattern.parse(args.pattern)
    keychain = open_keychain()
    try:
        infos = keychain.list(pattern)
    finally:
        keychain.stop()
    if not args.all_realms:
        infos = [i for i in infos if not INTERNAL_REALM.matches(i.id)]
    infos.sort(key=lambda i: i.id.value)
    if args.json:
        doc = [
            {"id": i.id.value, "provider": i.provider, "metadata": dict(i.metadata)} for i in infos
        ]
        print(json.dumps(doc, indent=2))
    elif args.long:
        width = max((len(i.id.value) for i in infos), default=2)
        lines = [f"{'ID':<{width}}  PROVIDER     METADATA"]
        for i in infos:
            meta = ", ".join(f"{k}={v}" for k, v in sorted(i.metadata.items()))
            lines.append(f"{i.id.value:<{width}}  {i.provider:<11}  {meta}".rstrip())
        print("\n".join(lines))
    elif infos:
        print("\n".join(i.id.value for i in infos))
    return 0
