"""Fitting text into a width: a long ID, label or value ends in ``…`` rather than being cut
at the edge of its column (where nothing says that more follows).

A line made of several parts (the header, the count line, a tree row) is fitted by what each
part is worth: :func:`fit_parts` gives up the least important parts first (their place shows
``…``), shortens a part that may be shortened, and never shows a part cut without ``…``.  Every
line of the UI orders its parts state first, then counts, then detail, so what goes is at the
end, and what stays (a daemon that is down, "1 down", an expiry mark) is what matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Sequence

ELLIPSIS = "…"

#: What a part is worth (higher stays longer): the state of things, a count, detail.
STATE = 3
COUNT = 2
DETAIL = 1
#: Worth least: what goes first (a reminder of the usual, like "by name").
LEAST = 0

#: A part shortened shows at least this many cells before its ``…`` (else it goes whole:
#: "doc…" for a plugin's name says less than "…" and costs more).
MIN_SHOWN = 4

# Control characters (C0, DEL, C1) take no cell in the width sums but do things on a terminal:
# shown as "?" so what is measured is what is drawn.
_CONTROLS = {code: "?" for code in (*range(0x20), *range(0x7F, 0xA0))}


class Part(NamedTuple):
    """One part of a line: its text, its worth, whether it may be shortened (a name, a message)
    or only shown whole or not at all (a count, a mark), and the gap before it on the line."""

    text: Text | str
    priority: int = DETAIL
    shrink: bool = False
    gap: str = " · "


def fit(text: Text | str, width: int) -> Text:
    """``text`` in at most ``width`` cells, its last cell ``…`` when it had to be shortened."""
    fitted = _text(text)
    fitted.truncate(max(width, 1), overflow="ellipsis")
    return fitted


def fit_parts(parts: Sequence[Part], width: int) -> Text:
    """The parts on one line of at most ``width`` cells.

    While the line is too wide, the least worth part (the last of equals) is shortened to the
    room left if it may be and ``MIN_SHOWN`` cells remain, else replaced by ``…`` (next to
    another ``…`` it adds nothing).  Parts are never reordered.  If the most worth parts alone
    are still too wide (or the last one left), the line is cut at ``width`` and ends in ``…``.
    """
    if width <= 0:
        return Text()
    texts = [_text(part.text) for part in parts]
    # None: given up (shown as "…").
    shown: list[Text | None] = list(texts)
    if _width(parts, shown) <= width:
        return _assemble(parts, shown)
    order = sorted(range(len(parts)), key=lambda i: (parts[i].priority, -i))
    for index in order:
        text = shown[index]
        if text is None:
            continue  # cannot happen: each part is given up once
        if sum(other is not None for other in shown) == 1:
            break  # the most worth part: cut below, never given up for a bare "…"
        if parts[index].shrink:
            # Its room: the width less the line without it (its gap still counted).
            shown[index] = Text()
            room = width - _width(parts, shown)
            if room >= min(MIN_SHOWN + 1, text.cell_len):
                shown[index] = fit(text, room) if room < text.cell_len else text
                break
        shown[index] = None
        if _width(parts, shown) <= width:
            break
    line = _assemble(parts, shown)
    if line.cell_len > width:
        line.truncate(width, overflow="ellipsis")
    return line


def _text(text: Text | str) -> Text:
    if isinstance(text, str):
        return Text(text.translate(_CONTROLS))
    if any(ord(char) in _CONTROLS for char in text.plain):
        clean = text.copy()
        clean.plain = text.plain.translate(_CONTROLS)  # same length: the spans still hold
        return clean
    return text.copy()


def _kept(parts: Sequence[Part], shown: Sequence[Text | None]) -> list[tuple[str, Text]]:
    """The gap and text of every piece on the line: parts given up side by side are one ``…``;
    the first piece has no gap."""
    pieces: list[tuple[str, Text]] = []
    given_up = False
    for part, text in zip(parts, shown, strict=True):
        if text is None and given_up:
            continue
        given_up = text is None
        pieces.append(("" if not pieces else part.gap, Text(ELLIPSIS) if text is None else text))
    return pieces


def _width(parts: Sequence[Part], shown: Sequence[Text | None]) -> int:
    return sum(cell_len(gap) + text.cell_len for gap, text in _kept(parts, shown))


def _assemble(parts: Sequence[Part], shown: Sequence[Text | None]) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for gap, text in _kept(parts, shown):
        line.append(gap)
        line.append_text(text)
    return line


def split_parts(text: Text, gap: str = " · ") -> list[Text]:
    """``text`` cut at every ``gap`` (styles kept): the parts of a line built as one text."""
    plain = text.plain
    offsets: list[int] = []
    start = 0
    while (found := plain.find(gap, start)) >= 0:
        offsets.extend((found, found + len(gap)))
        start = found + len(gap)
    pieces = text.divide(offsets)
    return [piece for i, piece in enumerate(pieces) if i % 2 == 0]
