"""Small text helpers that several widgets and screens share."""

from __future__ import annotations

import os


def tilde(text: str) -> str:
    """``text`` with the home directory shortened to ``~`` (paths are long, screens narrow)."""
    home = os.path.expanduser("~")
    return text.replace(home + "/", "~/") if home not in ("", "/") else text


def counted(number: int, noun: str) -> str:
    """``1 secret``, ``3,633 secrets``: the number with its noun, singular for one."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
