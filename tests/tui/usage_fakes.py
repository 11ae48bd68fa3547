"""A stand-in Docker door for the "Used by" tests: fixed referrers, a container-events stream
fed by the test, and a rollout that records what it was asked to do.

Matching is the real :func:`docker_pass.core.docker.uses.uses_of`, and the plan the real
:class:`~docker_pass.core.docker.rollout.RolloutPlan`; only Docker itself is left out (the
tmux test under ``tests/containers`` drives a real one).
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.engine_api import DockerTimeoutError
from docker_pass.core.docker.rollout import (
    ContainerRollout,
    ProjectRollout,
    RolloutOutcome,
    RolloutPlan,
)
from docker_pass.core.docker.usage import CONTAINER, FILE, SERVICE, Gathered, Place, Referrer
from docker_pass.core.docker.uses import uses_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from docker_pass.core.docker.usage import Use

DB = "myapp/prod/postgres/password"
STRIPE = "myapp/prod/stripe/api-key"

WEB = Place(
    CONTAINER,
    "shop-web-1",
    container_id="a" * 64,
    state="running",
    project="shop",
    service="web",
    working_dir="/srv/shop",
    config_files=("/srv/shop/compose.yaml",),
)
WORKER = Place(CONTAINER, "billing-worker", container_id="b" * 64, state="exited")
MIGRATE = Place(
    SERVICE,
    "shop/migrate",
    project="shop",
    service="migrate",
    working_dir="/srv/shop",
    config_files=("/srv/shop/compose.yaml",),
    file="/srv/shop/compose.yaml",
    state="no container",
)
ENV_FILE = Place(FILE, "/srv/shop/.env", file="/srv/shop/.env")
BATCH = Place(CONTAINER, "batch-7", container_id="c" * 64, state="running")


def shop_referrers() -> list[Referrer]:
    """Five places use :data:`DB` (one by pattern); one uses :data:`STRIPE`."""
    return [
        Referrer(WEB, "DB_PASSWORD", DB),
        Referrer(WEB, "STRIPE_KEY", STRIPE),
        Referrer(WORKER, "PG_PASS", DB),
        Referrer(MIGRATE, "DB_PASSWORD", DB),
        Referrer(ENV_FILE, "POSTGRES_PASSWORD", DB),
        Referrer(BATCH, "x-secret:myapp/prod/**=/run/secrets", "myapp/prod/**"),
    ]


def quiet(idle: float) -> DockerTimeoutError:
    """What the real client raises when a read waits longer than its deadline."""
    return DockerTimeoutError(
        f"cannot reach the Docker engine at unix:///fake.sock: it did not answer in time ({idle})"
    )


class FakeDocker:
    """The door (:class:`~docker_pass.tui.model.docker_door.UsageDoor`) over fixed referrers."""

    def __init__(
        self,
        referrers: list[Referrer] | None = None,
        *,
        docker: str = "",
        proxy: str = "",
        failed: Sequence[str] = (),
    ) -> None:
        self.referrers = shop_referrers() if referrers is None else referrers
        #: Why no engine is reachable ("" when it is).
        self.docker = docker
        #: Why no proxy runs ("" when it does).
        self.proxy = proxy
        #: What a rollout fails to recreate.
        self.failed = list(failed)
        self.gathers = 0
        #: Raised by the next gatherings while set (a bug, a file that broke a parser…).
        self.broken: Exception | None = None
        self.matched: list[str] = []
        self.streams = 0
        self.carried: list[RolloutPlan] = []
        self.feed: queue.Queue[dict[str, Any] | Exception] = queue.Queue()
        self._lock = threading.Lock()

    def gather(self) -> Gathered:
        with self._lock:
            self.gathers += 1
            if self.broken is not None:
                raise self.broken
            if self.docker:
                return Gathered([], docker=self.docker)
            return Gathered(list(self.referrers))

    def uses_of(self, gathered: Gathered, id_: str) -> list[Use]:
        self.matched.append(id_)
        return uses_of(gathered, id_)

    def events(self, since: str, idle: float) -> Iterator[dict[str, Any]]:
        with self._lock:
            self.streams += 1
        while True:
            try:
                item = self.feed.get(timeout=idle)
            except queue.Empty:
                raise quiet(idle) from None
            if isinstance(item, Exception):
                raise item
            yield item

    def container_event(self, nano: int, action: str = "create") -> None:
        """What the engine sends when a container is created (or ``action``)."""
        self.feed.put({"Type": "container", "Action": action, "timeNano": nano})

    def proxy_problem(self) -> str:
        return self.proxy

    def plan(self, uses: Sequence[Use]) -> RolloutPlan:
        projects: dict[str, ProjectRollout] = {}
        containers: list[ContainerRollout] = []
        ids = sorted({u.id for u in uses})
        for place in dict.fromkeys(u.place for u in uses):
            if place.kind != CONTAINER:
                continue
            if place.project:
                found = projects.setdefault(
                    place.project,
                    ProjectRollout(place.project, place.working_dir, place.config_files, []),
                )
                found.services.append(place.service)
            else:
                containers.append(ContainerRollout(place.name, place.container_id))
        return RolloutPlan(ids, list(projects.values()), containers, [])

    def carry_out(self, plan: RolloutPlan, report: Callable[[str], None]) -> RolloutOutcome:
        self.carried.append(plan)
        outcome = RolloutOutcome(list(plan.refused))
        for project in plan.projects:
            report(f"Compose project {project.project}: docker compose up")
            outcome.done.append(
                f"Compose project {project.project} ({', '.join(project.services)})"
            )
        for container in plan.containers:
            report(f"{container.name}: creating its replacement")
            if container.name in self.failed:
                outcome.failed.append(
                    f"{container.name}: the new container did not start; the old one is running "
                    "as before"
                )
            else:
                outcome.done.append(f"container {container.name}")
        return outcome
