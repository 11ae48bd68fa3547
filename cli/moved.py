"""What ``mv`` prints: each move's outcome (text or JSON), and the references a move left behind.

A move that completed goes to stdout (``Moved P:OLD to Q:NEW``); one that kept the old secret
is an error line on stderr saying what exists where, and the exit status is 1.  Afterwards the
``se://`` references to the moved IDs in Compose and env files are listed on stderr, found by
``check``'s own reader (:mod:`docker_pass.core.docker.compose`), each with its line.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from docker_pass.cli.render import clean_outside

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from docker_pass.core.docker.compose import FoundReference
    from docker_pass.core.ids import ID
    from docker_pass.core.moves import Moved, RealmMoved


def print_moved(moves: Sequence[Moved], *, as_json: bool) -> int:
    """One secret's move (or a realm's, one line each); exit 1 unless every one moved."""
    if as_json:
        _print_json([_move_entry(m) for m in moves])
    for moved in moves:
        if moved.moved:
            if not as_json:
                print(_sentence(moved.describe()), flush=True)
        else:
            print(f"Error: {clean_outside(moved.describe())}", file=sys.stderr)
    return 0 if all(m.moved for m in moves) else 1


def print_realm(result: RealmMoved, *, as_json: bool) -> int:
    """A realm's move: a line per secret, then the summary; exit 1 unless every one moved."""
    if as_json:
        doc = {
            "old": result.old.value + "/",
            "new": result.new.value + "/",
            "plugin": result.plugin,
            "to_plugin": result.to_plugin,
            "moved": len(result.moved),
            "kept": len(result.kept),
            "moves": [_move_entry(m) for m in result.moves],
        }
        _print_json(doc)
    for moved in result.moves:
        if moved.moved and not as_json:
            print(_sentence(moved.describe()), flush=True)
        elif not moved.moved:
            print(f"Kept: {clean_outside(moved.describe())}", file=sys.stderr)
    if result.complete:
        if not as_json:
            print(_sentence(result.summary()))
        return 0
    print(f"Error: {_sentence(result.summary())} (Kept: lines)", file=sys.stderr)
    return 1


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _move_entry(moved: Moved) -> dict[str, object]:
    return {
        "old": moved.old.value,
        "new": moved.new.value,
        "plugin": moved.plugin,
        "to_plugin": moved.to_plugin,
        "outcome": moved.outcome,
        "version": moved.version,
        "checked": moved.checked,
        "message": moved.message,
    }


def _print_json(doc: object) -> None:
    import json

    print(json.dumps(doc, indent=2))


# -- references left behind --------------------------------------------------------------------


def print_references(olds: Sequence[ID], files: Sequence[Path]) -> None:
    """``Warning: still referring to OLD: FILE:LINE (service S, VARIABLE)`` for each reference
    to a moved ID in ``files`` (default: the Compose files and ``.env`` ``check`` reads here,
    when there are any).  A file that cannot be read is named, and the others still listed."""
    if not olds:
        return
    from pathlib import Path

    from docker_pass.core.docker.compose import (
        ComposeFileError,
        default_files,
        find_references,
    )
    from docker_pass.core.errors import DockerPassError

    if files:
        paths = list(files)
    else:
        try:
            paths = default_files(Path())
        except ComposeFileError:
            return  # no Compose file and no .env here: nothing can refer to it
    wanted = {old.value for old in olds}
    for path in paths:
        try:
            found = find_references([path])
        except DockerPassError as exc:
            print(f"Warning: references not checked: {clean_outside(str(exc))}", file=sys.stderr)
            continue
        stale = [ref for ref in found if ref.target in wanted]
        for ref, line in zip(stale, _lines_of(stale), strict=True):
            print(f"Warning: {_still_referring(ref, line)}", file=sys.stderr)


def _still_referring(ref: FoundReference, line: int | None) -> str:
    place = str(ref.file) + (f":{line}" if line is not None else "")
    where = f"service {ref.service}, {ref.variable}" if ref.service else ref.variable
    how = ", looked up by name" if ref.lookup else ""
    return clean_outside(f"still referring to {ref.target}: {place} ({where}{how})")


#: A character that may continue an ID: a reference's text ends before any other.
_ID_CHARACTER = re.compile(r"[A-Za-z0-9._:/-]")


def _lines_of(refs: Sequence[FoundReference]) -> list[int | None]:
    """The line each reference is written on, in order (the reader reports no lines: each is
    the next line, after the previous one's of the same text, where the reference text ends
    as an ID does; a line naming its variable too is preferred)."""
    from docker_pass.core.references.syntax import reference_text

    texts: dict[Path, list[str]] = {}
    taken: set[tuple[Path, int]] = set()
    out: list[int | None] = []
    for ref in refs:
        if ref.file not in texts:
            try:
                texts[ref.file] = ref.file.read_text(errors="replace").splitlines()
            except OSError:
                texts[ref.file] = []
        needle = ref.variable if ref.lookup else reference_text(ref.target)
        lines = [
            n
            for n, text in enumerate(texts[ref.file], 1)
            if (ref.file, n) not in taken and _holds(text, needle)
        ]
        best = [n for n in lines if ref.variable in texts[ref.file][n - 1]] or lines
        line = best[0] if best else None
        if line is not None:
            taken.add((ref.file, line))
        out.append(line)
    return out


def _holds(text: str, needle: str) -> bool:
    """Whether ``needle`` appears in ``text`` as a whole reference (not a longer ID's start)."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if end == len(text) or not _ID_CHARACTER.match(text[end]):
            return True
        start = text.find(needle, start + 1)
    return False
