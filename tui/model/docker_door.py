"""The UI's door to Docker: who uses a secret, the container events, and rollouts.

Like the gateway for the secrets engine, every call here blocks and is made from a thread
worker (or the events follower's thread), never on the event loop.  The engine asked is the
one the Docker proxy forwards to (:func:`~docker_pass.core.docker.engine_api.upstream_engine`),
picked again at each call: an engine daemon started after the UI changes it.  A rollout's
creates go through the daemon's proxy, so that references resolve again.

:class:`DockerDoor` is what the app is given; tests and the screenshots give a stand-in with
the same methods (:class:`UsageDoor`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from docker_pass.core.docker.usage import Gathered
from docker_pass.core.errors import DockerPassError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from docker_pass.core.docker.rollout import RolloutOutcome, RolloutPlan
    from docker_pass.core.docker.usage import Use


#: The container events after which the users are gathered again.
CONTAINER_EVENTS = ("create", "destroy", "rename", "start", "die", "pause", "unpause", "update")


class UsageDoor(Protocol):
    """What the UI asks of Docker (see the module)."""

    def gather(self) -> Gathered:
        """Every referrer: containers, their Compose projects' files (blocking)."""
        ...

    def uses_of(self, gathered: Gathered, id_: str) -> list[Use]:
        """The uses of ``id_`` among ``gathered`` (cheap: no I/O)."""
        ...

    def events(self, since: str, idle: float) -> Iterator[dict[str, Any]]:
        """One stream of container events ``since`` a time, its reads waiting at most
        ``idle`` seconds (raising :class:`DockerPassError` then, or on any failure)."""
        ...

    def proxy_problem(self) -> str:
        """``""`` when the engine daemon's Docker proxy runs, else why a rollout cannot."""
        ...

    def plan(self, uses: Sequence[Use]) -> RolloutPlan:
        """What a rollout of ``uses`` would recreate, and what it refuses (blocking)."""
        ...

    def carry_out(self, plan: RolloutPlan, report: Callable[[str], None]) -> RolloutOutcome:
        """Carry ``plan`` out through the proxy, ``report`` hearing each step (blocking)."""
        ...


class DockerDoor:
    """The real door: the upstream engine, :mod:`~docker_pass.core.docker.uses` and
    :mod:`~docker_pass.core.docker.rollout` (imported on first use: not on the UI's start)."""

    def __repr__(self) -> str:
        return "DockerDoor()"

    def gather(self) -> Gathered:
        from docker_pass.core.docker.engine_api import upstream_engine
        from docker_pass.core.docker.uses import gather

        try:
            return gather(upstream_engine())
        except DockerPassError as exc:
            return Gathered([], docker=str(exc))

    def uses_of(self, gathered: Gathered, id_: str) -> list[Use]:
        from docker_pass.core.docker.uses import uses_of

        return uses_of(gathered, id_)

    def events(self, since: str, idle: float) -> Iterator[dict[str, Any]]:
        from docker_pass.core.docker.engine_api import upstream_engine

        # Only what changes the list or a state it shows: no exec or health-check events
        # (a health check every few seconds would be a gathering every few seconds).
        filters = {"type": ["container"], "event": list(CONTAINER_EVENTS)}
        return upstream_engine(timeout=idle).events(filters, since=since)

    def proxy_problem(self) -> str:
        from docker_pass.core.docker.engine_api import proxy_engine
        from docker_pass.core.docker.rollout import NO_PROXY

        return "" if proxy_engine() is not None else NO_PROXY

    def plan(self, uses: Sequence[Use]) -> RolloutPlan:
        from docker_pass.core.docker.engine_api import upstream_engine
        from docker_pass.core.docker.rollout import plan_rollout

        return plan_rollout(list(uses), upstream_engine())

    def carry_out(self, plan: RolloutPlan, report: Callable[[str], None]) -> RolloutOutcome:
        from docker_pass.core.docker.engine_api import proxy_engine, upstream_engine
        from docker_pass.core.docker.rollout import NO_PROXY, carry_out

        proxy = proxy_engine()
        if proxy is None:
            raise DockerPassError(NO_PROXY)
        return carry_out(plan, upstream_engine(), proxy, report=report)
