"""The change feed: ``WatchSecrets`` on a real daemon, and the feed's queues on their own.

On the wire: the first event is a ``resync``; a write through the daemon names its plugin and
ID; another process writing the file store directly is seen by the daemon's watcher; a
plugin's crash and re-enabling go by without ending the stream; a client that never reads
slows no write; another user's connection is refused before any stream.  On their own (no
daemon): keepalives, a slow subscriber's resync with bounded memory, a stalled stream cut
off, a disconnect freeing the subscriber, the subscriber limit.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.ids import ID
from docker_pass.core.remote.endpoint import connect_unix
from docker_pass.core.remote.feed import (
    CHANGED,
    PLUGINS,
    RESYNC,
    FeedEvent,
    FeedFollower,
    _request,
    watch_events,
)
from docker_pass.daemon.feed import (
    KEEPALIVE,
    QUEUE_SIZE,
    ChangeFeed,
    FeedFullError,
)
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.daemon.engines import RunningEngine

#: A generous bound on waiting for an event (the machine may be busy).
BOUND = 15.0


class Events:
    """A follower of the daemon's feed and what it heard (from its thread)."""

    def __init__(self, engine: RunningEngine) -> None:
        self.seen: list[FeedEvent] = []
        self.downs: list[str] = []
        self.follower = FeedFollower(engine.socket, self.seen.append, self.downs.append)

    def wait_for(self, what: str, test: Callable[[FeedEvent], bool]) -> FeedEvent:
        deadline = time.monotonic() + BOUND
        while True:
            for event in list(self.seen):
                if test(event):
                    return event
            assert time.monotonic() < deadline, f"no event {what}: {self.seen}"
            time.sleep(0.02)


@pytest.fixture
def events(engine: RunningEngine) -> Iterator[Events]:
    followed = Events(engine)
    followed.follower.start()
    assert followed.follower.live.wait(BOUND)
    yield followed
    followed.follower.stop()


def elsewhere(engine: RunningEngine, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``docker-pass`` writing the store itself: no daemon at the socket it looks at."""
    env = dict(os.environ, DOCKER_PASS_ENGINE_SOCKET=str(engine.socket) + ".none")
    return docker_pass(*args, env=env)


def test_the_first_event_is_a_resync_and_writes_through_the_daemon_name_plugin_and_id(
    engine: RunningEngine, events: Events
) -> None:
    first = events.wait_for("first", lambda e: True)
    assert first.kind == RESYNC
    engine.client().save(ID("feed/one"), b"value-one", {})
    saved = events.wait_for("for the save", lambda e: "feed/one" in e.ids)
    assert saved.kind == CHANGED
    assert saved.plugins == ("docker-pass",)
    assert saved.sequence > first.sequence
    assert all(b"value-one" not in repr(e).encode() for e in events.seen)
    assert "value-one" not in engine.log()


def test_another_process_writing_the_store_reaches_the_subscriber(
    engine: RunningEngine, events: Events
) -> None:
    events.wait_for("first", lambda e: e.kind == RESYNC)
    before = len(events.seen)
    assert elsewhere(engine, "set", "feed/direct=typed-elsewhere").returncode == 0
    found = events.wait_for(
        "for the direct write",
        lambda e: e in events.seen[before:] and e.kind == CHANGED and "docker-pass" in e.plugins,
    )
    assert found.ids == ()  # the watcher knows the plugin, not which ID


def test_the_feed_survives_a_plugin_crash_and_tells_of_its_status(
    engine: RunningEngine, events: Events
) -> None:
    events.wait_for("first", lambda e: e.kind == RESYNC)
    crash = docker_pass("run", "--", "true", env={"C": "se://crash/now"})
    assert crash.returncode == 1
    assert docker_pass("plugins", "enable", "snapshot").returncode == 0
    status = events.wait_for("of the status", lambda e: e.kind == PLUGINS)
    assert "snapshot" in status.plugins
    engine.client().save(ID("feed/after"), b"v", {})
    events.wait_for("after the crash", lambda e: "feed/after" in e.ids)
    assert not events.downs


def test_a_client_that_never_reads_slows_no_write(engine: RunningEngine, events: Events) -> None:
    hostile = connect_unix(engine.socket, 5)
    try:
        hostile.sendall(_request())  # subscribes, then never reads a byte
        client = engine.client()
        for n in range(30):
            client.save(ID(f"feed/burst{n}"), b"v", {})
        assert client.info().version
        events.wait_for("of the last write", lambda e: "feed/burst29" in e.ids)
    finally:
        hostile.close()


def test_a_disconnect_ends_the_stream(engine: RunningEngine) -> None:
    stream = watch_events(engine.socket)
    assert next(stream).kind == RESYNC
    stream.close()  # the connection closes; the daemon's stream ends with it
    again = watch_events(engine.socket)
    assert next(again).kind == RESYNC
    again.close()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_another_user_gets_no_stream(engine: RunningEngine) -> None:
    os.chmod(engine.socket.parent, 0o755)  # noqa: S103 - only the peer check stands
    os.chmod(engine.socket, 0o666)  # noqa: S103 - only the peer check stands
    curl = [
        "curl",
        "-sS",
        "--max-time",
        "5",
        "--unix-socket",
        str(engine.socket),
        "-H",
        "Content-Type: application/connect+json",
        "--data-binary",
        "@-",
        "http://localhost/dockerpass.v1.FeedService/WatchSecrets",
    ]
    body = _request().split(b"\r\n\r\n", 1)[1]
    nobody = subprocess.run(
        curl, input=body, user=65534, group=65534, extra_groups=[], capture_output=True
    )
    assert nobody.returncode != 0
    assert b"resync" not in nobody.stdout
    deadline = time.monotonic() + 10
    while "(uid 65534)" not in engine.log():
        assert time.monotonic() < deadline, engine.log()
        time.sleep(0.05)


# -- the feed's queues, without a daemon -----------------------------------------------------


def test_keepalives_come_while_nothing_changes() -> None:
    async def main() -> list[str]:
        feed = ChangeFeed(keepalive=0.01)
        stream = feed.stream()
        kinds = [(await anext(stream)).kind for _ in range(3)]
        await stream.aclose()
        return kinds

    assert asyncio.run(main()) == [RESYNC, KEEPALIVE, KEEPALIVE]


def test_a_slow_subscriber_gets_a_resync_and_its_queue_stays_bounded() -> None:
    async def main() -> tuple[str, int]:
        feed = ChangeFeed(keepalive=10)
        slow, quick = feed.stream(), feed.stream()
        assert (await anext(slow)).kind == RESYNC
        assert (await anext(quick)).kind == RESYNC
        for n in range(QUEUE_SIZE * 10):
            feed.publish(["docker-pass"], [f"a/{n}"])
            assert (await anext(quick)).ids == (f"a/{n}",)  # it keeps up: every event
        queued = max(len(s._queue) for s in feed._subscribers)
        kind = (await anext(slow)).kind  # (a second would wait for the 10 s keepalive)
        await slow.aclose()
        await quick.aclose()
        return kind, queued

    kind, queued = asyncio.run(main())
    assert kind == RESYNC  # it fell behind: list everything, nothing was lost
    assert queued <= QUEUE_SIZE


def test_a_stalled_stream_is_cut_off_and_frees_its_slot() -> None:
    async def main() -> int:
        feed = ChangeFeed(keepalive=0.02, stall=0.05)
        stuck = asyncio.get_running_loop().create_future()

        async def subscriber() -> None:
            stream = feed.stream()
            await anext(stream)
            await stuck  # as a stream whose socket is full: it takes no event again

        task = asyncio.ensure_future(subscriber())
        while feed.subscribers == 0:
            await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await task
        return feed.subscribers

    assert asyncio.run(main()) == 0


def test_a_closed_stream_frees_its_slot_and_the_limit_holds() -> None:
    async def main() -> None:
        feed = ChangeFeed(max_subscribers=1)
        first = feed.stream()
        await anext(first)
        with pytest.raises(FeedFullError):
            await anext(feed.stream())
        await first.aclose()
        assert feed.subscribers == 0
        second = feed.stream()
        assert (await anext(second)).kind == RESYNC
        feed.close()
        assert [e async for e in second] == []  # the daemon stops: the stream ends

    asyncio.run(main())


def test_the_follower_says_that_the_feed_is_down() -> None:
    downs: list[str] = []
    path = f"/tmp/dpf-missing-{os.getpid()}.sock"
    follower = FeedFollower(path, lambda e: None, downs.append, backoff=(0.01,))
    follower.start()
    deadline = time.monotonic() + BOUND
    while not downs:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    follower.stop()
    assert len(downs) == 1
    assert "cannot reach the engine daemon" in downs[0]
