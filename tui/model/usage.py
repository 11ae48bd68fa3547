"""What the "Used by" pane and list show of a secret's users: a summary per secret, and the
words for a place (a container, a Compose service, a file).

Everything here is text from outside (container names, paths, variable names read from
Docker's labels and from Compose files): it reaches the terminal only through
:func:`~docker_pass.core.outside.clean_outside`, here.  Never a value: a use holds a
reference's text, an ID or a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from docker_pass.core.docker.usage import CONTAINER, FILE, SERVICE
from docker_pass.core.outside import clean_outside
from docker_pass.tui.text import plural

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.docker.usage import Place, Use

#: The longest piece of outside text a line shows (a path, a name); longer ones end in "…".
OUTSIDE_PIECE = 200

#: The groups of the whole list, in order: place kind, heading.
GROUPS = ((CONTAINER, "Containers"), (SERVICE, "Compose services"), (FILE, "Files"))


def shown(text: str) -> str:
    """Outside text as a line may show it (cleaned, one line, at most :data:`OUTSIDE_PIECE`)."""
    return clean_outside(text, OUTSIDE_PIECE).replace("\n", " ")


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """The "Used by" section of one secret.

    ``note`` is set while nothing can be listed ("looking…", "no Docker engine (…)"); else
    ``uses`` are the secret's uses (possibly none) and ``problems`` the gathering's notes.
    """

    id: str
    uses: tuple[Use, ...] = ()
    note: str = ""
    problems: tuple[str, ...] = ()

    def places(self) -> list[Place]:
        """The distinct places of the uses, in the order of the uses (containers, services,
        files; by name)."""
        seen: dict[Place, None] = {}
        for use in self.uses:
            seen.setdefault(use.place, None)
        return list(seen)

    def headline(self) -> str:
        """``3 places`` / ``not used`` / the note."""
        if self.note:
            return self.note
        places = self.places()
        if not places:
            return "nothing found using it"
        kinds = {p.kind for p in places}
        if kinds == {CONTAINER}:
            return plural(len(places), "container")
        return plural(len(places), "place")

    def uses_at(self, place: Place) -> list[Use]:
        """The uses at ``place``."""
        return [u for u in self.uses if u.place == place]


def place_name(place: Place) -> str:
    """What a person calls a place: a container's name, ``project/service``, a file's path."""
    if place.kind == CONTAINER:
        return shown(place.name or place.container_id[:12])
    if place.kind == SERVICE:
        return shown(f"{place.project}/{place.service}")
    return shown(place.file or place.name)


def place_state(place: Place) -> str:
    """A place's state in a word or two: ``running``, ``exited``, ``has container``,
    ``no container``, ``file``."""
    if place.kind == CONTAINER:
        return shown(place.state) or "container"
    if place.kind == SERVICE:
        return shown(place.state) or "has container"
    return f"service {shown(place.service)}" if place.service else "file"


def variables(uses: Sequence[Use]) -> str:
    """The variables (or ``x-secret:`` labels) of ``uses``, comma-separated, each once."""
    seen: dict[str, None] = {}
    for use in uses:
        seen.setdefault(shown(use.referrer.via), None)
    return ", ".join(seen)


def reference(use: Use) -> str:
    """The reference of ``use`` as written (``se://ID``, ``se://db/*``, ``NAME (by name)``)."""
    return shown(use.referrer.reference)
