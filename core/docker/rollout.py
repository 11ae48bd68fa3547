"""Roll a changed secret out: recreate what uses it so it gets the new value.

:func:`plan_rollout` turns the uses of the changed IDs (:mod:`docker_pass.core.docker.usage`)
into a :class:`RolloutPlan`: each Compose project with the services of it that use them and have
a container (a service with none is not started by a rollout), each plain container that uses
them, and what is refused, with the reason and the command to run instead.
:func:`carry_out` does it: a project through Compose itself (``docker compose -p P -f F… up -d
--force-recreate --no-deps S…`` in its working dir, through the proxy so its references resolve
again; Compose creates the new container before it removes the old one), a plain container by
:func:`docker_pass.core.docker.recreate.recreate` (rename-then-swap).  Never a value: the
Compose process gets the files' references, not what they resolve to.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.engine_api import DockerApiError, DockerUnreachableError
from docker_pass.core.docker.leftovers import clean_leftovers
from docker_pass.core.docker.recreate import RecreateError, is_leftover_name, recreate, refusal
from docker_pass.core.docker.usage import CONTAINER, SERVICE
from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.outside import clean_outside

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.docker.usage import Use

#: Seconds a ``docker compose up`` may take before it counts as failed.
COMPOSE_TIMEOUT = 600.0
#: Said when no engine daemon serves the Docker proxy (``rollout``, ``set --rollout``, the UI).
NO_PROXY = (
    "a rollout needs the engine daemon's Docker proxy, and none is running: start it with "
    "'docker pass engine run' (or 'docker pass engine install-service')"
)
#: Said when a person declines a rollout (the CLI's question and the UI's).
DECLINED = "Nothing rolled out."


class ProjectRollout:
    """A Compose project to roll: its name, working dir, config files and the services (sorted)
    Compose recreates."""

    __slots__ = ("config_files", "project", "services", "working_dir")

    def __init__(
        self, project: str, working_dir: str, config_files: tuple[str, ...], services: list[str]
    ) -> None:
        self.project = project
        self.working_dir = working_dir
        self.config_files = config_files
        self.services = services

    def command(self) -> list[str]:
        """The Compose command line (the ``docker`` executable's arguments): names and files,
        never a value."""
        files = [arg for f in self.config_files for arg in ("-f", f)]
        return [
            "compose",
            "-p",
            self.project,
            *files,
            "up",
            "-d",
            "--force-recreate",
            "--no-deps",
            *self.services,
        ]

    def __repr__(self) -> str:
        return f"ProjectRollout({self.project!r}, {self.services!r})"


class ContainerRollout:
    """A plain container to recreate: its name and ID."""

    __slots__ = ("container_id", "name")

    def __init__(self, name: str, container_id: str) -> None:
        self.name = name
        self.container_id = container_id

    def __repr__(self) -> str:
        return f"ContainerRollout({self.name!r})"


class Refused:
    """A place a rollout leaves alone: what (``container NAME``, ``service P/S``) and why, with
    the command to run instead."""

    __slots__ = ("reason", "what")

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason

    def line(self) -> str:
        """One line: what, and why."""
        return f"{self.what}: {self.reason}"

    def __repr__(self) -> str:
        return f"Refused({self.what!r})"


class RolloutPlan:
    """What a rollout will do: ``projects``, ``containers`` and ``refused``, for ``ids``."""

    __slots__ = ("containers", "ids", "leftovers", "projects", "refused")

    def __init__(
        self,
        ids: list[str],
        projects: list[ProjectRollout],
        containers: list[ContainerRollout],
        refused: list[Refused],
    ) -> None:
        self.ids = ids
        self.projects = projects
        self.containers = containers
        self.refused = refused
        #: Temporary containers an interrupted rollout left (cleaned up before the work).
        self.leftovers: list[str] = []

    @property
    def empty(self) -> bool:
        """Nothing to recreate, refuse or clean up (nothing uses the IDs)."""
        return not (self.projects or self.containers or self.refused or self.leftovers)

    def lines(self) -> list[str]:
        """The plan as a person reads it (outside names cleaned)."""
        out = []
        for project in self.projects:
            out.append(
                f"recreate Compose project {_said(project.project)}: "
                f"{', '.join(_said(s) for s in project.services)} "
                f"(in {_said(project.working_dir)})"
            )
        for container in self.containers:
            out.append(f"recreate container {_said(container.name)}")
        for refused in self.refused:
            out.append(f"refused {_said(refused.line(), 600)}")
        for name in self.leftovers:
            out.append(f"clean up {_said(name)}, left by an interrupted rollout")
        return out

    def as_json(self) -> dict[str, Any]:
        """The plan as data."""
        return {
            "ids": self.ids,
            "projects": [
                {
                    "project": p.project,
                    "working_dir": p.working_dir,
                    "config_files": list(p.config_files),
                    "services": p.services,
                }
                for p in self.projects
            ],
            "containers": [{"name": c.name, "id": c.container_id} for c in self.containers],
            "refused": [{"what": r.what, "reason": r.reason} for r in self.refused],
            "leftovers": self.leftovers,
        }

    def __repr__(self) -> str:
        return (
            f"RolloutPlan({len(self.projects)} projects, {len(self.containers)} containers, "
            f"{len(self.refused)} refused)"
        )


class RolloutOutcome:
    """What :func:`carry_out` did: ``done`` (what was recreated), ``failed`` (what and why,
    with what was left as it was), ``refused`` (from the plan), ``notes``."""

    __slots__ = ("done", "failed", "notes", "refused")

    def __init__(self, refused: list[Refused]) -> None:
        self.done: list[str] = []
        self.failed: list[str] = []
        self.notes: list[str] = []
        self.refused = refused

    @property
    def ok(self) -> bool:
        """Everything planned was done and nothing was refused."""
        return not self.failed and not self.refused

    def as_json(self) -> dict[str, Any]:
        """The outcome as data."""
        return {
            "ok": self.ok,
            "done": self.done,
            "failed": self.failed,
            "refused": [{"what": r.what, "reason": r.reason} for r in self.refused],
            "notes": self.notes,
        }

    def __repr__(self) -> str:
        return f"RolloutOutcome(done={len(self.done)}, failed={len(self.failed)})"


def _said(text: str, limit: int = 120) -> str:
    return clean_outside(text, limit)


def plan_rollout(uses: Sequence[Use], docker: DockerApi) -> RolloutPlan:
    """The plan for ``uses`` (of the changed IDs), asking ``docker`` (the engine the proxy
    forwards to, never the proxy) for each plain container's inspect."""
    ids = sorted({use.id for use in uses})
    projects: dict[str, ProjectRollout] = {}
    plain: dict[str, str] = {}
    refused: list[Refused] = []
    refused_projects: set[str] = set()
    leftovers: set[str] = set()
    for use in uses:
        place = use.place
        if place.kind == CONTAINER and is_leftover_name(place.name):
            leftovers.add(place.name)  # carry_out cleans it up first
            continue
        if place.kind == CONTAINER and not place.project:
            plain.setdefault(place.container_id, place.name)
            continue
        if place.kind not in (CONTAINER, SERVICE) or not place.project or not place.service:
            continue
        if place.kind == SERVICE and place.state:
            continue  # no container: a rollout does not start a service
        if place.project in refused_projects:
            continue
        missing = _odd_names(place.project, place.service) or _missing_files(
            place.working_dir, place.config_files
        )
        if missing is not None:
            refused_projects.add(place.project)
            projects.pop(place.project, None)
            refused.append(
                Refused(
                    f"Compose project {place.project}",
                    f"{missing}: recreate its services from their project yourself "
                    f"('docker compose -p {place.project} up -d --force-recreate SERVICE' "
                    "with DOCKER_HOST pointing at the proxy)",
                )
            )
            continue
        project = projects.get(place.project)
        if project is None:
            project = projects[place.project] = ProjectRollout(
                place.project, place.working_dir, place.config_files, []
            )
        if place.service not in project.services:
            project.services.append(place.service)
    inspected: dict[str, dict[str, Any]] = {}
    for container_id, name in plain.items():
        try:
            inspected[container_id] = docker.inspect_container(container_id)
        except (DockerApiError, DockerUnreachableError) as exc:
            refused.append(Refused(f"container {name}", f"cannot inspect it: {exc}"))
    recreated = set(inspected) | {plain[c] for c in inspected}
    containers = []
    for container_id, doc in inspected.items():
        others = _sharing_network(docker, container_id, plain[container_id], recreated)
        reason = refusal(doc, recreated) or others
        if reason:
            refused.append(Refused(f"container {plain[container_id]}", reason))
        else:
            containers.append(ContainerRollout(plain[container_id], container_id))
    for project in projects.values():
        project.services.sort()
    plan = RolloutPlan(
        ids,
        sorted(projects.values(), key=lambda p: p.project),
        sorted(containers, key=lambda c: c.name),
        refused,
    )
    plan.leftovers = sorted(leftovers)
    return plan


#: Compose's own rules for a project's and a service's name: anything else (a label any
#: container may carry) could read as an option on Compose's command line.
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_SERVICE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")


def _odd_names(project: str, service: str) -> str | None:
    """Why a project's or service's name (from labels) is not one Compose gives, or ``None``."""
    if not _PROJECT_NAME.match(project):
        return "its name is not a Compose project name"
    if not _SERVICE_NAME.match(service):
        return f"its service {_said(service, 60)!r} is not a Compose service name"
    return None


def _missing_files(working_dir: str, config_files: tuple[str, ...]) -> str | None:
    """Why a project's Compose files cannot be used (none named, one gone), or ``None``."""
    if not config_files:
        return "its containers name no Compose files"
    base = Path(working_dir) if working_dir else None
    for name in config_files:
        path = Path(name) if Path(name).is_absolute() or base is None else base / name
        if not path.is_file():
            return f"its Compose file {name} is gone"
    if base is not None and not base.is_dir():
        return f"its working dir {working_dir} is gone"
    return None


def _sharing_network(docker: DockerApi, container_id: str, name: str, recreated: set[str]) -> str:
    """Why recreating this container would cut off another one that shares its network and is
    not recreated with it; ``""`` when none does."""
    try:
        entries = docker.containers()
    except DockerPassError:
        return ""
    for entry in entries:
        mode = str((entry.get("HostConfig") or {}).get("NetworkMode", ""))
        target = mode.partition(":")[2] if mode.startswith("container:") else ""
        if target and (target == name or container_id.startswith(target)):
            other = str(entry.get("Id", ""))
            if other not in recreated:
                names = entry.get("Names") or [other[:12]]
                return (
                    f"container {str(names[0]).lstrip('/')} shares its network and would lose it: "
                    "recreate both yourself"
                )
    return ""


def carry_out(
    plan: RolloutPlan, docker: DockerApi, proxy: DockerApi, *, report: Callable[[str], None]
) -> RolloutOutcome:
    """Do ``plan``: Compose projects through Compose against ``proxy``, plain containers by
    rename-then-swap (created through ``proxy``, swapped on ``docker``).  Each step is
    reported; a failure leaves the old container in place and the rest goes on."""
    outcome = RolloutOutcome(list(plan.refused))
    try:
        outcome.notes.extend(clean_leftovers(docker, report=report))
    except (DockerApiError, DockerUnreachableError) as exc:
        outcome.notes.append(f"could not look for leftovers of an interrupted rollout: {exc}")
    for project in plan.projects:
        what = f"Compose project {_said(project.project)} ({', '.join(project.services)})"
        report(f"{what}: docker compose up --force-recreate through the proxy")
        problem = run_compose(project, proxy)
        if problem:
            outcome.failed.append(
                f"{what}: {problem}; Compose leaves a container it could not replace running"
            )
        else:
            outcome.done.append(what)
    for container in plan.containers:
        try:
            made = recreate(docker, proxy, container.container_id, report=report)
        except RecreateError as exc:
            outcome.failed.append(str(exc))
        except (DockerApiError, DockerUnreachableError) as exc:
            outcome.failed.append(f"{container.name}: {exc}; nothing changed")
        else:
            outcome.done.append(f"container {_said(container.name)}")
            outcome.notes.extend(made.notes)
    return outcome


def run_compose(project: ProjectRollout, proxy: DockerApi) -> str:
    """Run the project's ``docker compose … up`` against ``proxy``: ``""``, or what went wrong
    (Compose's own words, cleaned and shortened)."""
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        return "the docker CLI is not installed (Compose runs as its plugin)"
    env = dict(os.environ, DOCKER_HOST=proxy.host.url)
    env.pop("DOCKER_CONTEXT", None)
    try:
        done = subprocess.run(  # names and files only, never a value
            [docker_cli, *project.command()],
            cwd=project.working_dir or None,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMPOSE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"docker compose did not finish in {int(COMPOSE_TIMEOUT)} s"
    except OSError as exc:
        return f"docker compose could not start: {exc.strerror or type(exc).__name__}"
    if done.returncode == 0:
        return ""
    said = clean_outside(done.stderr or done.stdout, 2000).strip()
    return "docker compose failed: " + shorten(said.splitlines()[-1] if said else "", 300)
