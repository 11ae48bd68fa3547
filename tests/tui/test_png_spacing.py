"""The README's PNG screenshots keep the spaces between labels (issue 24, item 9).

Textual's SVG places each run of text at its own x and writes its spaces as non-breaking ones;
rsvg-convert dropped a run's leading spaces and drew it at the run's x, so "github  expired"
came out "githubexpired".  This renders a real Textual screenshot with ``scripts/screenshots``'
own converter and measures the gap between two labels in the PNG's pixels.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import struct
import zlib
from importlib.machinery import SourceFileLoader
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rich.text import Text
from textual.app import App
from textual.widgets import Static

if TYPE_CHECKING:
    from types import ModuleType

    from textual.app import ComposeResult

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots"
#: Textual's cell width in its SVGs (font-size 20px).
CELL = 12.2
GREEN = "#00ff00"
MAGENTA = "#ff00ff"


def _renderer_available() -> bool:
    has_cairosvg = importlib.util.find_spec("cairosvg") is not None
    return shutil.which("rsvg-convert") is not None or has_cairosvg


pytestmark = pytest.mark.skipif(not _renderer_available(), reason="no SVG renderer")


def _script() -> ModuleType:
    loader = SourceFileLoader("screenshots_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Labels(App[None]):
    """One line: two labels two spaces apart, each its own run (its own colour)."""

    CSS = "Screen { background: #000000; } Static { color: #ffffff; }"

    def __init__(self, line: Text) -> None:
        super().__init__()
        self.line = line

    def compose(self) -> ComposeResult:
        yield Static(self.line)


def _svg(line: Text, tmp_path: Path) -> Path:
    async def shoot() -> Path:
        app = Labels(line)
        async with app.run_test(size=(40, 3)):
            return Path(app.save_screenshot("labels.svg", str(tmp_path)))

    return asyncio.run(shoot())


def _pixels(png: Path) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, kind = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        name, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if name == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
            assert depth == 8
        elif name == b"IDAT":
            idat += body
        pos += 12 + length
    step = {2: 3, 6: 4}[kind]
    raw = zlib.decompress(idat)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind_of_filter == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind_of_filter == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind_of_filter == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind_of_filter == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                near = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + near) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, step


def _columns(png: Path, colour: tuple[bool, bool, bool]) -> list[int]:
    """The x of every pixel column holding ink of ``colour`` (which channels are high)."""
    width, _, rows, step = _pixels(png)
    found: set[int] = set()
    for row in rows:
        for x in range(width):
            pixel = row[x * step : x * step + 3]
            high = tuple(channel > 150 for channel in pixel)
            low = all(
                channel < 110 for channel, want in zip(pixel, colour, strict=True) if not want
            )
            if high == colour and low:
                found.add(x)
    return sorted(found)


def test_labels_keep_their_gap_in_the_png(tmp_path: Path) -> None:
    script = _script()
    line = Text.assemble(("github", GREEN), ("  expired", MAGENTA))
    svg = _svg(line, tmp_path)
    png = script.to_png(svg)
    assert png is not None
    green = _columns(png, (False, True, False))
    magenta = _columns(png, (True, False, True))
    assert green, "no green label drawn"
    assert magenta, "no magenta label drawn"
    width, _, _, _ = _pixels(png)
    scale = width / float(svg.read_text().split('viewBox="0 0 ')[1].split()[0])
    gap = (min(magenta) - max(green)) / (CELL * scale)
    # Two spaces: about two cells of background between the labels (0 when run together).
    assert 1.5 <= gap <= 3.0, f"the gap is {gap:.2f} cells"


def test_runs_of_spaces_become_cells_of_x() -> None:
    script = _script()
    run = (
        '<text class="r1" x="183" y="264" textLength="109.8" clip-path="url(#l-10)">'
        "&#160;&#160;expired</text>"
    )
    assert script.for_renderers(run) == (
        '<text class="r1" x="207.4" y="264" textLength="85.4" clip-path="url(#l-10)">expired</text>'
    )
    blank = (
        '<text class="r1" x="0" y="20" textLength="24.4" clip-path="url(#l-0)">&#160;&#160;</text>'
    )
    assert script.for_renderers(blank) == ""
    plain = '<text class="r1" x="0" y="20" textLength="24.4" clip-path="url(#l-0)">ab</text>'
    assert script.for_renderers(plain) == plain
