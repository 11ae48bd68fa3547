"""What ``import`` prints: one line per binding (never a value), or ``--json``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from docker_pass.core.importing.plan import Action
from docker_pass.core.names import REFERENCE_SCHEME
from docker_pass.core.outside import clean_outside

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from docker_pass.core.importing.plan import Plan

#: The word each action is printed with, done and (--dry-run) to be done.
_WORDS = {
    Action.STORE: ("stored", "would store"),
    Action.REUSE: ("reused", "would reuse"),
    Action.REPLACE: ("replaced", "would replace"),
    Action.KEEP: ("kept", "would keep"),
    Action.REFUSE: ("refused", "would refuse"),
}


def render(
    plan: Plan,
    *,
    path: Path,
    prefix: str,
    plugin: str,
    backup: Path | None,
    args: argparse.Namespace,
) -> None:
    """Print the outcome of ``import`` (or, with ``--dry-run``, what it would do)."""
    rewritten = len(plan.rewritten)
    if args.json:
        document = {
            "file": str(path),
            "format": args.format,
            "prefix": prefix,
            "plugin": plugin,
            "dry_run": bool(args.dry_run),
            "rewritten": bool(rewritten) and not args.dry_run,
            "backup": None if backup is None else str(backup),
            "entries": [
                {
                    "key": item.key,
                    "line": item.line,
                    "id": None if item.id is None else str(item.id),
                    "action": item.action,
                    "reason": item.reason,
                }
                for item in plan.items
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for item in plan.items:
        word = _WORDS[item.action][1 if args.dry_run else 0]
        key = clean_outside(item.key, 80)
        line = f"{word:<13} {key} (line {item.line})"
        if item.action in Action.REWRITTEN:
            line += f" -> {REFERENCE_SCHEME}{item.id}"
        if item.reason:
            line += f": {clean_outside(item.reason, 300)}"
        print(line)
    where = clean_outside(str(path), 300)
    if not rewritten:
        print(f"{where}: nothing to rewrite")
    elif args.dry_run:
        print(f"would rewrite {where}: {rewritten} value(s) to references in plugin {plugin}")
    else:
        shown = clean_outside(str(backup), 300)
        print(f"rewrote {where}: {rewritten} value(s) to references in plugin {plugin}")
        print(f"backup: {shown} (0600; it holds the old values: delete it once checked)")
    if plan.refused:
        print(f"{len(plan.refused)} variable(s) not imported (see 'refused' above)")
