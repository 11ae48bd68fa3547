"""One ID, one answer: an ID that two or more plugins list is ambiguous.

``se://ID`` resolves to exactly one value or fails: while two running plugins hold the same
ID, every reference to it fails (``2 secrets matched …``).  The tree marks such an ID, and
the detail pane says how to reach each copy (``docker pass get --plugin NAME ID``) and how to
end the ambiguity, instead of offering a reference that fails.  Pure Python (no Textual).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from docker_pass.core.references.syntax import reference_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: The tree's mark after the name of an ambiguous ID.
AMBIGUOUS_MARK = "ambiguous"


def get_command(id_: str, plugin: str) -> str:
    """The command that reads ``id_`` from ``plugin`` alone (IDs need no shell quoting: their
    characters are letters, digits and ``. _ - : /``)."""
    return f"docker pass get --plugin {plugin} {id_}"


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """An ID that ``holders`` (two or more plugins) all list."""

    id: str
    holders: tuple[str, ...]
    #: The holders whose pattern can be narrowed (configurable ones), with that pattern now.
    narrowable: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, id_: str, holders: Sequence[str], patterns: Mapping[str, str]) -> Ambiguity | None:
        """The ambiguity of ``id_`` listed by ``holders`` (``None``: one holder, none);
        ``patterns`` holds the pattern of each configurable plugin."""
        names = tuple(sorted(set(holders)))
        if len(names) < 2:
            return None
        narrowable = tuple((n, patterns[n]) for n in names if n in patterns)
        return cls(id_, names, narrowable)

    @property
    def reference(self) -> str:
        """The reference that fails: ``se://ID``."""
        return reference_text(self.id)

    def problem(self) -> str:
        """Why the reference fails."""
        return (
            f"{self.reference} matches {len(self.holders)} secrets "
            f"({', '.join(self.holders)}): every reference to it fails"
        )

    def commands(self) -> list[str]:
        """How to read each copy on its own."""
        return [get_command(self.id, name) for name in self.holders]

    def remedy(self) -> str:
        """How to end the ambiguity."""
        ways = ["move (m) or delete one copy"]
        for name, pattern in self.narrowable:
            ways.append(
                f"narrow {name}'s pattern (plugins.{name}.pattern, now {pattern}) so that it "
                "no longer covers this ID"
            )
        return "; or ".join(ways)
