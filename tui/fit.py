"""Fitting text into a width: a long ID, label or value ends in ``…`` rather than being cut
at the edge of its column (where nothing says that more follows)."""

from __future__ import annotations

from rich.text import Text

ELLIPSIS = "…"


def fit(text: Text | str, width: int) -> Text:
    """``text`` in at most ``width`` cells, its last cell ``…`` when it had to be shortened."""
    fitted = Text(text) if isinstance(text, str) else text.copy()
    fitted.truncate(max(width, 1), overflow="ellipsis")
    return fitted
