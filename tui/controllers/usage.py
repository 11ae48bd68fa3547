"""Who uses the secret under the cursor: gathered in a worker, matched per cursor move, and
gathered again when containers change.

One gathering (a container list and the Compose projects' files, in a thread worker) serves
every cursor move: each secret's uses are matched from it once and kept until the next one.
The Docker engine's container events are followed in a thread
(:class:`~docker_pass.tui.model.container_events.ContainerEvents`); a burst of them is one
:class:`~docker_pass.tui.messages.ContainersChanged` and, :data:`DEBOUNCE_SECONDS` later, one
new gathering.  Without a Docker door (tests, unless they give one) the pane has no "Used by"
section at all; without a reachable engine it has one line saying why.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import shorten
from docker_pass.core.outside import clean_outside
from docker_pass.tui.messages import ContainersChanged, UsageGathered
from docker_pass.tui.model.container_events import IDLE_SECONDS, ContainerEvents
from docker_pass.tui.model.usage import UsageSummary
from docker_pass.tui.workers import WorkerGroup, superseded

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.docker.usage import Gathered, Use
    from docker_pass.tui.controllers.ports import Runner, Stoppable
    from docker_pass.tui.model.docker_door import UsageDoor

#: Seconds between the first event of a burst and the gathering it causes.
DEBOUNCE_SECONDS = 0.3
#: Said while the first gathering runs.
LOOKING = "looking for containers and Compose files…"
#: The longest reason the "no Docker engine" line gives.
REASON_LIMIT = 160


def no_engine(reason: str) -> str:
    """The line said instead of the uses when no Docker engine could be read."""
    text = clean_outside(reason, REASON_LIMIT * 2).replace("\n", " ").strip()
    # The pane's line names what is missing already: the gathering's own lead-in goes.
    text = text.removeprefix("containers not listed: ")
    text = text.replace("cannot reach the Docker engine at ", "cannot reach ", 1)
    return f"no Docker engine ({shorten(text, REASON_LIMIT)})" if text else "no Docker engine"


class UsageController:
    """The gathered users and the events follower (see the module); ``shown()`` is called
    on the event loop when what the pane shows may have changed."""

    def __init__(
        self,
        door: UsageDoor | None,
        runner: Runner,
        shown: Callable[[], None],
        *,
        debounce: float = DEBOUNCE_SECONDS,
        idle: float = IDLE_SECONDS,
    ) -> None:
        self.door = door
        self._runner = runner
        self._shown = shown
        self._debounce = debounce
        self._idle = idle
        #: The last gathering (``None`` until the first one arrives).
        self.gathered: Gathered | None = None
        #: How many gatherings arrived (tests wait for the next one).
        self.generation = 0
        #: Why the last gathering failed ("" when it did not).
        self.failure = ""
        self._matched: dict[str, tuple[Use, ...]] = {}
        self._follower: ContainerEvents | None = None
        #: Set from the follower's thread when a change is on its way to the event loop.
        self._pending = threading.Event()
        self._timer: Stoppable | None = None

    @property
    def enabled(self) -> bool:
        """Whether the UI shows who uses secrets (it was given a Docker door)."""
        return self.door is not None

    @property
    def follower(self) -> ContainerEvents | None:
        """The events follower while it runs."""
        return self._follower

    def start(self) -> None:
        """Gather once and follow the container events (nothing without a door)."""
        door = self.door
        if door is None or self._follower is not None:
            return
        self.gather()
        follower = ContainerEvents(
            lambda since: door.events(since, self._idle),
            self._changed,
            lambda _reason: self._changed(),  # the next gathering says why
            lambda: None,
            idle=self._idle,
        )
        self._follower = follower
        follower.start()

    def stop(self) -> None:
        """Stop following the events (the app is ending)."""
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def gather(self) -> None:
        """Gather the users again, in a worker (a newer gathering replaces a running one)."""
        if self.door is not None:
            self._runner.run_in_thread(WorkerGroup.USAGE, self._gather)

    def uses(self, id_: str) -> tuple[Use, ...]:
        """The uses of ``id_`` in the last gathering (matched once per gathering)."""
        gathered, door = self.gathered, self.door
        if gathered is None or door is None or gathered.docker:
            return ()
        found = self._matched.get(id_)
        if found is None:
            found = self._matched[id_] = tuple(door.uses_of(gathered, id_))
        return found

    def summary(self, subject: object) -> UsageSummary | None:
        """The "Used by" section for ``subject`` (``None``: none, it is not a live secret or
        the UI does not look at Docker)."""
        if self.door is None or not isinstance(subject, SecretInfo) or subject.deleted:
            return None
        id_ = subject.id.value
        gathered = self.gathered
        if self.failure:
            return UsageSummary(id_, note=f"not read ({shorten(self.failure, REASON_LIMIT)})")
        if gathered is None:
            return UsageSummary(id_, note=LOOKING)
        if gathered.docker:
            return UsageSummary(id_, note=no_engine(gathered.docker))
        return UsageSummary(id_, self.uses(id_), problems=tuple(gathered.problems))

    # -- on the event loop --------------------------------------------------------------------

    def arrived(self, message: UsageGathered) -> None:
        """A gathering arrived: it replaces the last one."""
        self.gathered = message.gathered
        self.failure = ""
        self.generation += 1
        self._matched.clear()
        self._shown()

    def failed(self, reason: str) -> None:
        """A gathering failed (the status line says so too): the pane says it was not read,
        rather than "looking…" for ever; the next container event tries again."""
        self.failure = clean_outside(reason, REASON_LIMIT * 2).replace("\n", " ")
        self._matched.clear()
        self._shown()

    def containers_changed(self) -> None:
        """Containers changed: gather again once the burst is over."""
        if self._timer is None and self._follower is not None:
            self._timer = self._runner.set_timer(self._debounce, self._again)

    def _again(self) -> None:
        self._timer = None
        # Cleared before the gathering starts: a change after this point brings another one.
        self._pending.clear()
        self.gather()

    # -- in worker threads ---------------------------------------------------------------------

    def _gather(self) -> None:
        door = self.door
        if door is None:
            return
        gathered = door.gather()
        if not superseded():
            self._runner.post_message(UsageGathered(gathered))

    def _changed(self) -> None:
        """From the follower's thread: one message per burst, not one per event."""
        if not self._pending.is_set():
            self._pending.set()
            self._runner.post_message(ContainersChanged())
