"""One module per CLI verb; each has ``register(subparsers)`` and keeps its imports light.

The parser registers only the verb being run when it can tell which one that is, so
``docker pass get`` imports and builds one subparser, not nine (a few ms of each command's
start-up); ``--help`` and unknown verbs get them all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

#: Verb module names with the aliases they answer to, in the order ``--help`` lists them.
VERBS: dict[str, tuple[str, ...]] = {
    "set": ("store", "save"),
    "get": (),
    "ls": ("list",),
    "rm": ("delete", "erase", "remove"),
    "undelete": (),
    "mv": ("move", "rename"),
    "run": (),
    "check": (),
    "uses": (),
    "import_": ("import",),
    "scan": (),
    "rollout": (),
    "plugins": (),
    "engine": ("daemon",),
    "ui": (),
    "version": (),
    "install": (),
}
_BY_NAME = {alias: verb for verb, aliases in VERBS.items() for alias in (verb, *aliases)}


def verb_for(token: str) -> str | None:
    """The verb module a command-line word names (verb or alias), if any."""
    return _BY_NAME.get(token)


def load(verbs: list[str] | None = None) -> list[ModuleType]:
    """The modules of ``verbs`` (default: all), in ``--help`` order."""
    names = verbs if verbs is not None else list(VERBS)
    modules = []
    for name in names:
        module = f"docker_pass.cli.commands.{name}"
        __import__(module)  # not importlib: that package costs ~0.15 ms of every command
        modules.append(sys.modules[module])
    return modules
