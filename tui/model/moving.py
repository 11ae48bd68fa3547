"""What a move asks for, and the references a move leaves behind.  Pure Python (no Textual).

A move is :func:`docker_pass.core.moves.move` (or ``move_realm``): the copy is written first,
and the old secret removed only if it is still the version copied, so a value is always in
the old place, the new one, or both.  After a move, ``se://`` references to the old IDs in
the Compose files and ``.env`` that ``check`` reads in the folder the UI runs in are listed,
found by ``check``'s own reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.docker.compose import ComposeFileError, default_files, find_references
from docker_pass.core.errors import DockerPassError
from docker_pass.core.outside import clean_outside

if TYPE_CHECKING:
    from collections.abc import Iterable

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.ids import ID

#: At most this many references are named after a move (the rest are counted).
SHOWN_REFERENCES = 5


@dataclass(frozen=True, slots=True)
class MoveRequest:
    """Move ``secret`` (or every secret under ``realm`` of ``plugin``) to ``new`` in
    ``to_plugin``; ``replace`` writes over a secret there; ``allow_duplicate``: the person
    agreed to an ID another plugin holds."""

    new: ID
    to_plugin: str
    plugin: str
    secret: SecretInfo | None = None
    realm: ID | None = None
    replace: bool = False
    allow_duplicate: bool = False

    def __repr__(self) -> str:
        what = self.secret.id.value if self.secret is not None else f"{self.realm}/"
        return f"MoveRequest({what!r} -> {self.to_plugin}:{self.new.value})"

    @property
    def olds(self) -> list[str]:
        """The old ID (or realm) as its references name it."""
        if self.secret is not None:
            return [self.secret.id.value]
        return [] if self.realm is None else [self.realm.value]


def references_to(olds: Iterable[str], directory: Path | None = None) -> list[str]:
    """``still referring to OLD: FILE (service S, VARIABLE)`` for each reference to one of
    ``olds`` (an ID, or a realm: every ID under it) in the Compose files and ``.env`` that
    ``check`` reads in ``directory`` (default: the current one); none when there are none."""
    wanted = set(olds)
    if not wanted:
        return []
    try:
        paths = default_files(directory or Path())
    except ComposeFileError:
        return []  # no Compose file and no .env here: nothing can refer to it
    lines: list[str] = []
    for path in paths:
        try:
            found = find_references([path])
        except DockerPassError as exc:
            lines.append(f"references not checked: {exc}")
            continue
        for ref in found:
            target = ref.target
            if not any(target == old or target.startswith(old + "/") for old in wanted):
                continue
            where = f"service {ref.service}, {ref.variable}" if ref.service else ref.variable
            lines.append(f"still referring to {target}: {ref.file} ({where})")
    # File names and variables come from files: made safe before they reach a screen.
    return [clean_outside(line) for line in lines]


def references_text(lines: list[str]) -> str:
    """The references in one status line (the first few, and how many more)."""
    if not lines:
        return ""
    shown = "; ".join(lines[:SHOWN_REFERENCES])
    more = len(lines) - SHOWN_REFERENCES
    return shown + (f"; and {more} more" if more > 0 else "")
