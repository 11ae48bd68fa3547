"""A fake ``op`` (1Password CLI 2.x) for the tests; ``tests/support/fakes/op`` runs it.

Why a fake: the real ``op`` is a closed binary that talks to 1Password's servers (and to the
desktop app for its authorization prompt), and neither can be reached from the test machines.
This script reproduces the documented output of the commands the ``1password-cli`` plugin runs,
so the plugin is tested against the shapes the real tool prints:

- ``op item list --format json [--vault V]``: a JSON array of objects with ``id``, ``title``,
  ``version``, ``vault {id, name}``, ``category`` (upper snake: ``LOGIN``, ``PASSWORD``,
  ``API_CREDENTIAL``, ``SECURE_NOTE``), ``last_edited_by``, ``created_at``, ``updated_at`` and,
  when set, ``tags``, ``urls``, ``additional_information``; never ``sections`` nor ``fields``.
- ``op item get ITEM [--vault V] --format json``: the same object plus ``sections [{id, label}]``
  and ``fields [{id, type, purpose?, label, value?, reference, section {id, label}?}]``
  (``value`` omitted when empty, ``reference`` an ``op://Vault/Item/[Section/]field`` URI).
  ``ITEM`` is an ID or a title; a title that several items share is refused, as op does.
- ``op --version``.
- Errors go to stderr as ``[ERROR] YYYY/MM/DD HH:MM:SS <message>`` with exit status 1.

The items come from the JSON file named by ``$FAKE_OP_DATA`` (see ``onepassword_data.py``).
``$FAKE_OP_MODE`` (comma-separated) picks failure modes:

- ``signed-out``: ``You are not currently signed in. Please run `op signin --help` …``
- ``prompt-dismissed``: ``authorization prompt dismissed, please try again``
- ``slow``: sleeps ``$FAKE_OP_DELAY`` seconds (default 3) before answering
- ``malformed``: prints truncated JSON with exit status 0
- ``duplicate-titles``: adds a second item titled like the first, in the same vault

Every invocation appends its arguments as one line to the file named by ``$FAKE_OP_CALLS``, so
a test can count how often the item list was read.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script: make the repository importable for the shared fixture module.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.support.fakes.onepassword_data import load_items, with_duplicate_title

VERSION = "2.30.3"
SIGNED_OUT = "You are not currently signed in. Please run `op signin --help` for instructions"
PROMPT_DISMISSED = "authorization prompt dismissed, please try again"
LIST_ONLY_KEYS = ("sections", "fields")


def fail(message: str) -> int:
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    sys.stderr.write(f"[ERROR] {stamp} {message}\n")
    return 1


def option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def positionals(args: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("--"):
            skip = "=" not in arg and arg in ("--vault", "--format", "--account", "--fields")
            continue
        out.append(arg)
    return out


def in_vault(item: dict[str, Any], vault: str | None) -> bool:
    if vault is None:
        return True
    wanted = vault.lower()
    return wanted in (item["vault"]["id"].lower(), item["vault"]["name"].lower())


def summary(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in LIST_ONLY_KEYS}


def item_list(args: list[str], items: list[dict[str, Any]]) -> int:
    if option(args, "--format") != "json":
        return fail("this fake only prints --format json")
    vault = option(args, "--vault")
    if vault is not None and not any(in_vault(i, vault) for i in items):
        return fail(
            f'"{vault}" isn\'t a vault in this account. Specify the vault with its ID or name.'
        )
    print(json.dumps([summary(i) for i in items if in_vault(i, vault)], indent=2))
    return 0


def item_get(args: list[str], items: list[dict[str, Any]]) -> int:
    names = positionals(args)
    if len(names) != 1:
        return fail('"op item get" requires exactly 1 argument')
    wanted = names[0]
    vault = option(args, "--vault")
    pool = [i for i in items if in_vault(i, vault)]
    found = [i for i in pool if i["id"] == wanted]
    if not found:
        found = [i for i in pool if i["title"].lower() == wanted.lower()]
    if not found:
        return fail(f'"{wanted}" isn\'t an item. Specify the item with its UUID, name, or domain.')
    if len(found) > 1:
        lines = "".join(
            f'\n\t* for the item "{i["title"]}" in vault {i["vault"]["name"]}: {i["id"]}'
            for i in found
        )
        return fail(
            f'More than one item matches "{wanted}". Try again and specify the item by its ID:'
            + lines
        )
    if option(args, "--format") != "json":
        return fail("this fake only prints --format json")
    item = dict(found[0])
    item.setdefault("sections", [])
    item.setdefault("fields", [])
    print(json.dumps(item, indent=2))
    return 0


def main(argv: list[str]) -> int:
    calls = os.environ.get("FAKE_OP_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(" ".join(argv) + "\n")
    modes = {m.strip() for m in os.environ.get("FAKE_OP_MODE", "").split(",") if m.strip()}
    if argv[:1] == ["--version"]:
        print(VERSION)
        return 0
    if "slow" in modes:
        time.sleep(float(os.environ.get("FAKE_OP_DELAY", "3")))
    if "prompt-dismissed" in modes:
        return fail(PROMPT_DISMISSED)
    if "signed-out" in modes:
        return fail(SIGNED_OUT)
    if "malformed" in modes:
        print('[{"id": "abcdefghijklmnopqrstuvwxy1", "title": "GitH')
        return 0
    items = load_items()
    if "duplicate-titles" in modes and items:
        items = with_duplicate_title(items)
    if argv[:2] == ["item", "list"]:
        return item_list(argv[2:], items)
    if argv[:2] == ["item", "get"]:
        return item_get(argv[2:], items)
    return fail(f'unknown command "{" ".join(positionals(argv))}" for "op"')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
