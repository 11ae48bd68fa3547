"""Small text helpers that several widgets and screens share."""

from __future__ import annotations

import os


def tilde(text: str) -> str:
    """``text`` with the home directory shortened to ``~`` (paths are long, screens narrow)."""
    home = os.path.expanduser("~")
    return text.replace(home + "/", "~/") if home not in ("", "/") else text
