"""The screen as text lines, read from Textual's own screenshot (what a person sees: masked
values stay masked), for tests that check words wherever a widget puts them."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

#: One run of text in an exported SVG: its x position, and the line it belongs to.
_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^"]*-line-(\d+)\)">([^<]*)</text>'
)
#: A cell's width in the SVG (Textual's export).
CELL = 12.2


def screen_lines(app: App[None]) -> list[str]:
    """Every line of the screen as shown now, trailing spaces removed."""
    rows: dict[int, list[tuple[float, str]]] = {}
    for match in _TEXT.finditer(app.export_screenshot()):
        x, line, text = float(match.group(1)), int(match.group(2)), match.group(3)
        rows.setdefault(line, []).append((x, html.unescape(text).replace("\xa0", " ")))
    out: list[str] = []
    for line in range(max(rows, default=-1) + 1):
        row = ""
        for x, text in sorted(rows.get(line, [])):
            row = row.ljust(round(x / CELL)) + text
        out.append(row.rstrip())
    return out


def screen_text(app: App[None]) -> str:
    """The screen as one text (lines joined by newlines)."""
    return "\n".join(screen_lines(app))


def detail_words(app: App[None]) -> str:
    """The detail pane's words (right of the tree's border), however its lines wrap."""
    parts = [line.partition("▕")[2] for line in screen_lines(app) if "▕" in line]
    return " ".join(" ".join(parts).split())
