"""The container-events follower on its own: quiet streams are not outages, an outage is told
once and ends with a change, each stream goes on from the last event seen, and stop ends the
thread."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.engine_api import DockerUnreachableError
from docker_pass.tui.model.container_events import ContainerEvents
from tests.tui.usage_fakes import quiet

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

IDLE = 0.05


def wait_for(condition: Callable[[], bool], what: str, bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


class Script:
    """Streams scripted one by one: each a list of events and a final exception."""

    def __init__(self, streams: list[tuple[list[dict[str, Any]], Exception | None]]) -> None:
        self.streams = streams
        self.since: list[str] = []
        self.changes = 0
        self.downs: list[str] = []
        self.ups = 0
        self.now = 0.0
        self.lock = threading.Lock()

    def open(self, since: str) -> Iterator[dict[str, Any]]:
        with self.lock:
            self.since.append(since)
            events, end = self.streams.pop(0) if self.streams else ([], None)
        yield from events
        if end is None:
            self.now += IDLE  # nothing more: the read deadline passes
            raise quiet(IDLE)
        raise end

    def clock(self) -> float:
        return self.now

    def change(self) -> None:
        with self.lock:
            self.changes += 1

    def down(self, reason: str) -> None:
        with self.lock:
            self.downs.append(reason)

    def up(self) -> None:
        with self.lock:
            self.ups += 1

    def follower(self) -> ContainerEvents:
        return ContainerEvents(
            self.open,
            self.change,
            self.down,
            self.up,
            idle=IDLE,
            backoff=(0.01, 0.02),
            clock=self.clock,
        )


def test_quiet_streams_are_not_outages_and_go_on_from_the_last_event() -> None:
    first = 1_700_000_000_123_456_789
    script = Script(
        [
            ([{"timeNano": first}, {"timeNano": first + 1}], None),
            # The next stream replays the last event (``since`` is inclusive): skipped.
            ([{"timeNano": first + 1}, {"timeNano": first + 2}], None),
        ]
    )
    follower = script.follower()
    follower.start()
    wait_for(lambda: len(script.since) >= 4, "four streams")
    follower.stop()
    follower.thread.join(5)
    assert not follower.thread.is_alive()
    assert script.downs == []
    assert script.changes == 3
    assert script.since[1] == "1700000000.123456790"
    assert script.since[2] == "1700000000.123456791"


def test_an_outage_is_told_once_and_its_end_is_a_change() -> None:
    gone = DockerUnreachableError("cannot reach the Docker engine at unix:///x.sock: refused")
    script = Script([([], gone), ([], gone), ([], gone), ([], None)])
    follower = script.follower()
    follower.start()
    wait_for(lambda: script.ups == 1, "the engine back")
    follower.stop()
    follower.thread.join(5)
    assert script.downs == ["cannot reach the Docker engine at unix:///x.sock: refused"]
    assert script.changes == 1


def test_stop_ends_the_thread_while_the_engine_is_away() -> None:
    gone = DockerUnreachableError("cannot reach the Docker engine at unix:///x.sock: refused")
    script = Script([([], gone)] * 1000)
    follower = ContainerEvents(script.open, script.change, script.down, script.up, backoff=(30,))
    follower.start()
    wait_for(lambda: len(script.downs) == 1, "the outage")
    follower.stop()
    follower.thread.join(5)
    assert not follower.thread.is_alive()


def test_the_no_engine_line_keeps_the_reason_and_drops_the_lead_ins() -> None:
    from docker_pass.tui.controllers.usage import no_engine

    said = "containers not listed: cannot reach the Docker engine at unix:///x.sock: refused"
    assert no_engine(said) == "no Docker engine (cannot reach unix:///x.sock: refused)"
    assert no_engine("\x1b[31mred\x1b[0m") == "no Docker engine (red)"
    assert no_engine("") == "no Docker engine"
    assert len(no_engine("x" * 10_000)) < 200
