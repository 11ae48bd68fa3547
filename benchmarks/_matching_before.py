"""The matcher as it was before the linear-time rewrite, kept as the benchmark's anchor.

A copy of ``core/ids.py`` at 7d34aa6: a pattern becomes one backtracking regular expression
(``(?:/[^/]+)*`` for each ``**``), inclusion tries instances of the other pattern (and gives up,
answering "not included", after 50,000 of them), overlap is a memoized recursion whose depth is
the sum of both lengths.  Only the benchmark uses it.
"""

from __future__ import annotations

import itertools
import re
from functools import cache

_FRESH = "\x00"
_MAX_INSTANCES = 50_000


def regex_source(components: tuple[str, ...]) -> str:
    """The old translation of pattern ``components`` to a regex over ID strings."""
    out = ""
    pending_globstar = False
    started = False
    for component in components:
        if component == "**":
            pending_globstar = True
            continue
        piece = "[^/]+" if component == "*" else re.escape(component)
        if not started:
            out = ("(?:[^/]+/)*" + piece) if pending_globstar else piece
            started = True
        else:
            out += ("(?:/[^/]+)*/" + piece) if pending_globstar else ("/" + piece)
        pending_globstar = False
    if pending_globstar:
        out = (out + "(?:/[^/]+)*") if started else "[^/]+(?:/[^/]+)*"
    return out


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The old compiled form of ``pattern`` (an all-``**`` pattern matched without it)."""
    return re.compile(regex_source(tuple(pattern.split("/"))))


def matches(pattern: str, id_: str) -> bool:
    """The old ``Pattern.matches``: one ``fullmatch`` of the compiled regex."""
    if all(c == "**" for c in pattern.split("/")):
        return True
    return compile_pattern(pattern).fullmatch(id_) is not None


def includes(outer: str, inner: str) -> bool:
    """The old ``Pattern.includes``: try instances of ``inner`` against ``outer``'s regex."""
    mine = tuple(outer.split("/"))
    other = tuple(inner.split("/"))
    if all(c == "**" for c in mine):
        return True
    fullmatch = re.compile(regex_source(mine)).fullmatch
    stars = mine.count("*")
    slots = [i for i, c in enumerate(other) if c == "**"]
    for tried, counts in enumerate(itertools.product(range(stars + 2), repeat=len(slots)), 1):
        if tried > _MAX_INSTANCES:
            return False
        instance: list[str] = []
        count_of = dict(zip(slots, counts, strict=True))
        for i, c in enumerate(other):
            if c == "**":
                instance.extend([_FRESH] * count_of[i])
            elif c == "*":
                instance.append(_FRESH)
            else:
                instance.append(c)
        if instance and fullmatch("/".join(instance)) is None:
            return False
    return True


def overlaps(first: str, second: str) -> bool:
    """The old ``Pattern.overlaps``: a memoized recursion over both component positions."""
    a = tuple(first.split("/"))
    b = tuple(second.split("/"))

    @cache
    def step(i: int, j: int) -> bool:
        la, lb = len(a), len(b)
        if i == la and j == lb:
            return True
        if i < la and a[i] == "**" and (step(i + 1, j) or (j < lb and step(i, j + 1))):
            return True
        if j < lb and b[j] == "**" and (step(i, j + 1) or (i < la and step(i + 1, j))):
            return True
        if i == la or j == lb or a[i] == "**" or b[j] == "**":
            return False
        return (a[i] == "*" or b[j] == "*" or a[i] == b[j]) and step(i + 1, j + 1)

    return step(0, 0)
