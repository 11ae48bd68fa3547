"""Who uses a secret: find every reference (:func:`gather`) and match them to IDs
(:func:`match_uses`, :func:`uses_of`), for ``uses``, ``rollout`` and the UI's "Used by" pane.

Where references are found:

- containers, running or not, on the engine the proxy forwards to (one ``GET
  /containers/json?all=1``, no inspect): each variable the proxy recorded in the
  :data:`~docker_pass.core.docker.container.REFERENCES_LABEL` label, and each
  ``x-secret:<ID-or-pattern>`` file label;
- Compose services: each project a container's ``com.docker.compose.*`` labels name is read
  from its config files with ``check``'s reader, so a service that refers to a secret but has
  no container yet is found too;
- files given with ``--file`` (Compose or env files, read as ``check`` reads them).

Everything a container carries is outside input: a label that is not the JSON the proxy
writes is a line in :attr:`Gathered.problems`, never a crash.  Never a value: only IDs,
patterns and variable names are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.container import FILE_LABEL_PREFIX, REFERENCES_LABEL
from docker_pass.core.docker.usage import (
    CONTAINER,
    FILE,
    SERVICE,
    Gathered,
    Place,
    Referrer,
    Use,
    UsesReport,
)
from docker_pass.core.errors import DockerPassError
from docker_pass.core.references.syntax import reference_target

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.docker.compose import FoundReference
    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.expiry import Expiry
    from docker_pass.core.ids import Pattern

#: Compose's labels on the containers it creates.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
#: :attr:`Place.state` of a Compose service no container of which exists.
NO_CONTAINER = "no container"
#: :attr:`Gathered.docker` when no engine was asked.
NOT_ASKED = "containers not listed: no Docker engine asked"
#: The order places are listed in.
KIND_ORDER = {CONTAINER: 0, SERVICE: 1, FILE: 2}


def _said(text: str, limit: int = 120) -> str:
    """Outside text (a container's name, a label) as a problem line may quote it."""
    from docker_pass.core.outside import clean_outside

    return clean_outside(text, limit)


# -- gathering ---------------------------------------------------------------------------------


class _Project:
    """A Compose project as its containers' labels describe it."""

    __slots__ = ("config_files", "name", "services", "working_dir")

    def __init__(self, name: str, working_dir: str, config_files: tuple[str, ...]) -> None:
        self.name = name
        self.working_dir = working_dir
        self.config_files = config_files
        self.services: set[str] = set()


def gather(docker: DockerApi | None, files: Sequence[Path] = ()) -> Gathered:
    """Every referrer: containers on ``docker`` (``None``: not asked, which
    :attr:`Gathered.docker` says), the Compose services of the projects they belong to, then
    ``files``.  An unreachable engine is one line in :attr:`Gathered.docker`; a project whose
    files cannot be read is one line in :attr:`Gathered.problems`.

    A file of ``files`` that cannot be read raises
    :class:`~docker_pass.core.docker.compose.ComposeFileError` (before the engine is asked):
    the caller named it, so it is an error, not a note.
    """
    file_referrers = _file_referrers(files)
    referrers: list[Referrer] = []
    problems: list[str] = []
    if docker is None:
        return Gathered(file_referrers, NOT_ASKED, problems)
    try:
        containers = docker.containers()
    except DockerPassError as exc:
        text = str(exc)
        if docker.host.url not in text:
            text = f"the Docker engine at {docker.host.url}: {text}"
        return Gathered(file_referrers, _said(f"containers not listed: {text}", 300), problems)
    projects: dict[str, _Project] = {}
    for entry in containers:
        referrers.extend(_container_referrers(entry, projects, problems))
    for project in projects.values():
        referrers.extend(_service_referrers(project, problems))
    referrers.extend(file_referrers)
    return Gathered(referrers, "", problems)


def _labels(entry: dict[str, Any]) -> dict[str, str]:
    labels = entry.get("Labels")
    if not isinstance(labels, dict):
        return {}
    return {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}


def _name(entry: dict[str, Any], container_id: str) -> str:
    names = entry.get("Names")
    if isinstance(names, list):
        for name in names:
            if isinstance(name, str) and name:
                return name[1:] if name.startswith("/") else name
    return container_id[:12]


def _container_referrers(
    entry: dict[str, Any], projects: dict[str, _Project], problems: list[str]
) -> list[Referrer]:
    labels = _labels(entry)
    container_id = entry.get("Id") if isinstance(entry.get("Id"), str) else ""
    name = _name(entry, str(container_id))
    state = entry.get("State") if isinstance(entry.get("State"), str) else ""
    project_name = labels.get(PROJECT_LABEL, "")
    service = labels.get(SERVICE_LABEL, "") if project_name else ""
    working_dir = labels.get(WORKING_DIR_LABEL, "") if project_name else ""
    config_files = _config_files(labels.get(CONFIG_FILES_LABEL, "")) if project_name else ()
    if project_name:
        project = projects.get(project_name)
        if project is None:
            project = projects[project_name] = _Project(project_name, working_dir, config_files)
        elif not project.config_files and config_files:
            project.working_dir, project.config_files = working_dir, config_files
        if service:
            project.services.add(service)
    place = Place(
        CONTAINER,
        name,
        container_id=str(container_id),
        state=str(state),
        project=project_name,
        service=service,
        working_dir=working_dir,
        config_files=config_files,
    )
    found: list[Referrer] = []
    recorded = labels.get(REFERENCES_LABEL)
    if recorded is not None:
        found.extend(_recorded_referrers(place, recorded, problems))
    for key, value in labels.items():
        if key.startswith(FILE_LABEL_PREFIX) and len(key) > len(FILE_LABEL_PREFIX):
            found.append(Referrer(place, f"{key}={value}", key[len(FILE_LABEL_PREFIX) :]))
    return found


def _recorded_referrers(place: Place, recorded: str, problems: list[str]) -> list[Referrer]:
    """The variables the proxy resolved, from its label (JSON ``{VAR: "se://id" | "" | null}``)."""
    where = f"container {_said(place.name)}: label {REFERENCES_LABEL}"
    try:
        document = json.loads(recorded)
    except (ValueError, RecursionError):
        problems.append(f"{where} is not JSON; ignored")
        return []
    if not isinstance(document, dict):
        problems.append(f"{where} is not a JSON object; ignored")
        return []
    found: list[Referrer] = []
    odd: list[str] = []
    for variable, sent in document.items():
        if sent is None or sent == "":
            found.append(Referrer(place, variable, variable, lookup=True))
            continue
        target = reference_target(sent) if isinstance(sent, str) else None
        if target is None:
            odd.append(variable)
            continue
        found.append(Referrer(place, variable, target))
    if odd:
        names = ", ".join(_said(v, 40) for v in odd[:3]) + (", …" if len(odd) > 3 else "")
        problems.append(f"{where}: not a reference for {names}; ignored")
    return found


def _config_files(label: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in label.split(",")) if part)


def _service_referrers(project: _Project, problems: list[str]) -> list[Referrer]:
    """A SERVICE referrer per reference in the project's config files."""
    from docker_pass.core.docker.compose import find_references

    where = f"Compose project {_said(project.name)}"
    if not project.config_files:
        problems.append(f"{where}: its containers name no config files; its services not read")
        return []
    base = Path(project.working_dir) if project.working_dir else None
    paths = [
        Path(f) if Path(f).is_absolute() or base is None else base / f for f in project.config_files
    ]
    try:
        found = find_references(paths)
    except DockerPassError as exc:
        problems.append(f"{where}: {_said(str(exc), 300)}")
        return []
    referrers = []
    for ref in found:
        if ref.dropped or not ref.service:
            continue
        place = Place(
            SERVICE,
            f"{project.name}/{ref.service}",
            state="" if ref.service in project.services else NO_CONTAINER,
            project=project.name,
            service=ref.service,
            working_dir=project.working_dir,
            config_files=project.config_files,
            file=str(ref.file),
        )
        referrers.append(_found_referrer(place, ref))
    return referrers


def _found_referrer(place: Place, ref: FoundReference) -> Referrer:
    return Referrer(place, ref.variable, ref.target, lookup=ref.lookup)


def _file_referrers(files: Sequence[Path]) -> list[Referrer]:
    from docker_pass.core.docker.compose import find_references

    referrers = []
    for path in files:
        for ref in find_references([path]):
            if ref.dropped:
                continue
            place = Place(FILE, str(ref.file), service=ref.service, file=str(ref.file))
            referrers.append(_found_referrer(place, ref))
    return referrers


# -- matching ----------------------------------------------------------------------------------


class _Index:
    """A gathering's referrers by target: exact IDs (and lookups) by text, patterns apart,
    invalid targets with their reason.  Built once per :class:`Gathered`."""

    __slots__ = ("exact", "invalid", "patterns", "source")

    def __init__(self, referrers: list[Referrer]) -> None:
        #: The list indexed, and its length then: a changed list is indexed again.
        self.source = (referrers, len(referrers))
        from docker_pass.core.ids import Pattern, is_valid_id

        self.exact: dict[str, list[Referrer]] = {}
        patterns: dict[str, tuple[Pattern, list[Referrer]]] = {}
        self.invalid: list[tuple[Referrer, str]] = []
        reasons: dict[str, str] = {}
        for referrer in referrers:
            target = referrer.target
            if target in self.exact:
                self.exact[target].append(referrer)
            elif target in patterns:
                patterns[target][1].append(referrer)
            elif target in reasons:
                self.invalid.append((referrer, reasons[target]))
            elif is_valid_id(target):
                self.exact[target] = [referrer]
            else:
                try:
                    patterns[target] = (Pattern.parse(target), [referrer])
                except ValueError as exc:
                    reasons[target] = _said(str(exc), 200)
                    self.invalid.append((referrer, reasons[target]))
        self.patterns = list(patterns.values())

    def uses_of(self, id_: str) -> list[Use]:
        found = [Use(id_, r) for r in self.exact.get(id_, ())]
        for pattern, referrers in self.patterns:
            if pattern.matches(id_):
                found.extend(Use(id_, r, by_pattern=True) for r in referrers)
        found.sort(key=_use_order)
        return found


def _use_order(use: Use) -> tuple[int, str, str, str]:
    place = use.referrer.place
    return (KIND_ORDER.get(place.kind, 9), place.name, place.file, use.referrer.via)


def _index(gathered: Gathered) -> _Index:
    """The gathering's index, built on first use and kept on it."""
    index = gathered._uses_index
    referrers = gathered.referrers
    if (
        not isinstance(index, _Index)
        or index.source[0] is not referrers
        or index.source[1] != len(referrers)
    ):
        index = _Index(referrers)
        gathered._uses_index = index
    return index


def uses_of(gathered: Gathered, id_: str) -> list[Use]:
    """The uses of one ID (sorted by place kind, name, variable): cheap, for the UI's cursor
    moves (the referrers are indexed once per gathering)."""
    return _index(gathered).uses_of(id_)


def match_uses(
    gathered: Gathered,
    infos: Sequence[SecretInfo],
    *,
    dangling: bool = False,
    unused: bool = False,
) -> UsesReport:
    """Each ID of ``infos`` (in their order, once each) with its uses and expiry; on request
    the dangling referrers (whose target matches no ID of ``infos``: meaningful when
    ``infos`` is every ID) and the IDs of ``infos`` with no use."""
    from docker_pass.core.expiry import expiry_of

    index = _index(gathered)
    uses: dict[str, list[Use]] = {}
    expiry: dict[str, Expiry] = {}
    unused_ids: list[str] = []
    seen: set[str] = set()
    for info in infos:
        id_ = info.id.value
        if id_ in seen:
            continue
        seen.add(id_)
        if info.metadata:
            found_expiry = expiry_of(info.metadata)
            if found_expiry is not None:
                expiry[id_] = found_expiry
        found = index.uses_of(id_)
        if found:
            uses[id_] = found
        elif unused:
            unused_ids.append(id_)
    report = UsesReport(
        uses,
        expiry=expiry,
        unused=unused_ids,
        docker=gathered.docker,
        problems=list(gathered.problems),
    )
    if dangling:
        report.dangling = _dangling(index, seen)
    return report


def _dangling(index: _Index, ids: set[str]) -> list[Referrer]:
    found = [r for r, _ in index.invalid if _counts_as_dangling(r)]
    for target, referrers in index.exact.items():
        if target not in ids:
            found.extend(r for r in referrers if _counts_as_dangling(r))
    for pattern, referrers in index.patterns:
        if not any(pattern.matches(i) for i in ids):
            found.extend(referrers)
    found.sort(key=lambda r: (KIND_ORDER.get(r.place.kind, 9), r.place.name, r.via))
    return found


def _counts_as_dangling(referrer: Referrer) -> bool:
    """A lookup by name in a file is dangling only on a container (where the proxy found a
    secret of that name once): in a file, an empty variable finding nothing stays empty."""
    return not referrer.lookup or referrer.place.kind == CONTAINER


def dangling_reason(referrer: Referrer) -> str:
    """Why a dangling referrer is one: its target is not an ID or pattern, or no secret has
    (or matches) it."""
    from docker_pass.core.ids import Pattern, is_valid_id

    target = referrer.target
    if is_valid_id(target):
        return "no secret has this ID"
    try:
        Pattern.parse(target)
    except ValueError as exc:
        return _said(str(exc), 200)
    return "the pattern matches no secret"


def target_pattern(referrer: Referrer) -> Pattern | None:
    """The referrer's target as a pattern (an ID is one), or ``None`` when it is neither."""
    from docker_pass.core.ids import Pattern

    try:
        return Pattern.parse(referrer.target)
    except ValueError:
        return None


__all__ = [
    "NO_CONTAINER",
    "dangling_reason",
    "gather",
    "match_uses",
    "target_pattern",
    "uses_of",
]
