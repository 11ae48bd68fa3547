"""Small text helpers that several widgets and screens share."""

from __future__ import annotations

import os

#: The header's icon: Textual's default "⭘" is missing from common monospace fonts (the
#: screenshots' DejaVu Sans Mono draws a box); "≡" is in them, and it opens the palette.
HEADER_ICON = "≡"


def tilde(text: str) -> str:
    """``text`` with the home directory shortened to ``~`` (paths are long, screens narrow)."""
    home = os.path.expanduser("~")
    return text.replace(home + "/", "~/") if home not in ("", "/") else text


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 secret``, ``2 secrets``, ``1,204 secrets`` (``many`` for irregular plurals)."""
    word = noun if count == 1 else (many if many is not None else noun + "s")
    return f"{count:,} {word}"
