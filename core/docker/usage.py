"""Who uses a secret: the places that refer to secret IDs, as ``uses``, ``rollout`` and the UI's
"Used by" pane share them.  Values only; finding them is :mod:`docker_pass.core.docker.uses`.

A :class:`Referrer` is one reference somewhere (a container's resolved variable or file label,
a Compose service's variable in its files, a variable in an env file given with ``--file``),
its target as written; a :class:`Use` is a referrer matched to one secret ID.  A reference by
pattern (``se://db/*``, a label ``x-secret:db/**=/p``) is one referrer and a use of every ID it
matches.  Never a value: a referrer holds the reference's text, which is an ID or a pattern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from docker_pass.core.expiry import Expiry

#: :attr:`Place.kind`: a container (running or not), on the engine the proxy forwards to.
CONTAINER = "container"
#: :attr:`Place.kind`: a Compose service, read from its project's files.
SERVICE = "service"
#: :attr:`Place.kind`: an env file or Compose file given with ``--file``.
FILE = "file"


class Place(FrozenValue):
    """Where references are: a container, a Compose service or a file.

    - container: ``name`` (without Docker's leading ``/``), ``container_id`` (full), ``state``
      (Docker's: ``running``, ``exited``, ``created``…), and ``project``/``service``/
      ``working_dir``/``config_files`` from its Compose labels when Compose made it;
    - service: ``project``, ``service``, ``working_dir``, ``config_files`` (as the project's
      containers' labels name them), ``file`` (the file that holds the reference: a config
      file, or an env file its ``env_file:`` names), ``state`` ``""`` when a container of the
      service exists and ``"no container"`` when none does;
    - file: ``file``, and ``service`` when it is a Compose file's service.
    """

    __slots__ = (
        "config_files",
        "container_id",
        "file",
        "kind",
        "name",
        "project",
        "service",
        "state",
        "working_dir",
    )
    kind: str
    name: str
    container_id: str
    state: str
    project: str
    service: str
    working_dir: str
    config_files: tuple[str, ...]
    file: str

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        container_id: str = "",
        state: str = "",
        project: str = "",
        service: str = "",
        working_dir: str = "",
        config_files: tuple[str, ...] = (),
        file: str = "",
    ) -> None:
        self._set("kind", kind)
        self._set("name", name)
        self._set("container_id", container_id)
        self._set("state", state)
        self._set("project", project)
        self._set("service", service)
        self._set("working_dir", working_dir)
        self._set("config_files", tuple(config_files))
        self._set("file", file)

    def __repr__(self) -> str:
        return f"Place({self.kind!r}, {self.name!r})"


class Referrer(FrozenValue):
    """One reference at a place: ``via`` is the variable (or the label ``x-secret:ID=/path``),
    ``target`` the ID or pattern it names as written (after ``se://``; for a lookup by name,
    the variable's name), ``lookup`` whether it is a variable sent empty and looked up by its
    name."""

    __slots__ = ("lookup", "place", "target", "via")
    place: Place
    via: str
    target: str
    lookup: bool

    def __init__(self, place: Place, via: str, target: str, *, lookup: bool = False) -> None:
        self._set("place", place)
        self._set("via", via)
        self._set("target", target)
        self._set("lookup", lookup)

    @property
    def reference(self) -> str:
        """The reference as a person reads it: ``se://ID``, or ``NAME (by name)``."""
        from docker_pass.core.references.syntax import reference_text

        return f"{self.target} (by name)" if self.lookup else reference_text(self.target)

    def __repr__(self) -> str:
        return f"Referrer({self.place!r}, {self.via!r}, {self.target!r})"


class Use(FrozenValue):
    """A referrer matched to one secret ID (``by_pattern``: its target is a pattern)."""

    __slots__ = ("by_pattern", "id", "referrer")
    id: str
    referrer: Referrer
    by_pattern: bool

    def __init__(self, id_: str, referrer: Referrer, *, by_pattern: bool = False) -> None:
        self._set("id", id_)
        self._set("referrer", referrer)
        self._set("by_pattern", by_pattern)

    @property
    def place(self) -> Place:
        """Where the use is."""
        return self.referrer.place

    def __repr__(self) -> str:
        return f"Use({self.id!r}, {self.referrer!r})"


class Gathered:
    """Every referrer found in one pass, before matching to IDs.

    ``docker`` is ``""`` when the containers were read, else one line saying why not (no
    engine reachable, which engine, the error); ``problems`` are lines about single places
    that could not be read (a project's config file gone, a file that is not Compose…).
    """

    __slots__ = ("_uses_index", "docker", "problems", "referrers")

    def __init__(
        self, referrers: list[Referrer], docker: str = "", problems: list[str] | None = None
    ) -> None:
        self.referrers = referrers
        self.docker = docker
        self.problems = problems or []
        #: The referrers indexed by target (:mod:`~docker_pass.core.docker.uses`, on first use).
        self._uses_index: object = None

    def __repr__(self) -> str:
        return f"Gathered({len(self.referrers)} referrers, docker={self.docker!r})"


class UsesReport:
    """What ``uses`` prints: for each secret ID the pattern matched, its uses (sorted by place
    kind, then name, then variable) and its expiry when it has one; on request the dangling
    referrers (whose target no plugin has) and the unused IDs; and the gathering's notes."""

    __slots__ = ("dangling", "docker", "expiry", "problems", "unused", "uses")

    def __init__(
        self,
        uses: dict[str, list[Use]],
        *,
        expiry: dict[str, Expiry] | None = None,
        dangling: list[Referrer] | None = None,
        unused: list[str] | None = None,
        docker: str = "",
        problems: list[str] | None = None,
    ) -> None:
        self.uses = uses
        self.expiry = expiry or {}
        self.dangling = dangling or []
        self.unused = unused or []
        self.docker = docker
        self.problems = problems or []

    def __repr__(self) -> str:
        return f"UsesReport({len(self.uses)} IDs)"
