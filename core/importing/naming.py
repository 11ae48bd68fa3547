"""How ``import`` names secrets: ``PREFIX/key``, from the project folder and the variable.

The rule (said in ``import --help`` and the README): lower-case the text, then replace every
character an ID component cannot hold (anything but ``a-z 0-9 . _ - :``) with ``-``.  A
variable ``DB_PASSWORD`` in folder ``My App`` becomes ``my-app/db_password``.  A ``/`` in a
variable's name is replaced too, so each variable is one component under the prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MAX_COMPONENT", "checked_prefix", "component_of", "default_prefix"]

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-:")

#: The longest component a name makes: longer ones are refused (no store keeps such labels well).
MAX_COMPONENT = 200


def component_of(text: str) -> str:
    """``text`` as one ID component by the rule above ("" for empty text)."""
    return "".join(ch if ch in _ALLOWED else "-" for ch in text.lower())


def default_prefix(folder: Path) -> str:
    """The prefix of a file in ``folder``: the folder's name by the rule above."""
    name = component_of(folder.resolve().name)
    if not name:
        raise UsageError(f"{folder.resolve()} has no name to make a prefix of: give --prefix")
    return name


def checked_prefix(text: str) -> str:
    """A ``--prefix`` as given (one trailing ``/`` allowed), checked against the ID grammar."""
    from docker_pass.core.grammar import id_problem
    from docker_pass.core.plugin import is_reserved

    prefix = text[:-1] if text.endswith("/") else text
    problem = id_problem(prefix)
    if problem:
        from docker_pass.core.errors import shorten

        raise UsageError(f"--prefix {shorten(prefix)!r} is not an ID: {problem}")
    if is_reserved(prefix) or is_reserved(f"{prefix}/x"):
        from docker_pass.core.names import ENGINE_REALM

        raise UsageError(f"--prefix {prefix}: {ENGINE_REALM}/** is the engine's own realm")
    return prefix
