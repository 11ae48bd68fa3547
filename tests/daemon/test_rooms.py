"""The daemon's rooms in-process: the engine host's generations, the one error mapping of every
service, the one peer check, and the sockets' clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any, cast

import pytest

from docker_pass.core.config import config_path
from docker_pass.core.errors import SecretNotFoundError
from docker_pass.core.remote.endpoint import PeerCredentials
from docker_pass.core.remote.wire import HINTS_HEADER
from docker_pass.daemon import peers
from docker_pass.daemon.app import EngineApplication
from docker_pass.daemon.engine_host import EngineHost
from docker_pass.daemon.limits import ServerLimits
from docker_pass.daemon.sockets import EngineLock, PathSocket

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from docker_pass.core.engine import Engine

LIST_SECRETS = "/dockerpass.v1.ListingService/ListSecrets"


class FakeEngine:
    """Counts its warm-ups and closes; ``numbered`` in the order the host built them."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.warmed = 0
        self.closed = 0

    def plugins(self) -> list[object]:
        self.warmed += 1
        return []

    def close(self) -> None:
        self.closed += 1

    def busy_plugins(self) -> list[str]:
        return []

    def follow_recorded_crashes(self) -> None:
        return None


class Engines:
    """The factory an :class:`EngineHost` builds fake engines with."""

    def __init__(self) -> None:
        self.built: list[FakeEngine] = []

    def __call__(self) -> Engine:
        engine = FakeEngine(len(self.built))
        self.built.append(engine)
        return cast("Engine", engine)


def number_of(engine: Engine) -> int:
    return cast("FakeEngine", engine).number


def write_config(doc: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


@pytest.fixture
def engines() -> Engines:
    return Engines()


@pytest.fixture
def host(engines: Engines) -> EngineHost:
    host = EngineHost(engines)
    host.start()
    return host


def test_the_engine_is_rebuilt_when_the_config_changes_behind_its_back(
    host: EngineHost, engines: Engines
) -> None:
    assert asyncio.run(host.call(number_of)) == 0
    write_config({"plugins": {}})
    assert asyncio.run(host.call(number_of)) == 1
    first, second = engines.built
    assert first.closed == 1  # idle: closed at once
    assert second.warmed == 1  # a new engine is warmed, as at start
    assert asyncio.run(host.call(number_of)) == 1
    assert host.close()
    assert second.closed == 1


def test_the_config_written_by_a_call_of_ours_is_no_change(
    host: EngineHost, engines: Engines
) -> None:
    def enable(engine: Engine) -> int:
        write_config({"plugins": {"x": {"enabled": True}}})
        return number_of(engine)

    assert asyncio.run(host.call(enable, writes_config=True)) == 0
    assert asyncio.run(host.call(number_of)) == 0
    assert len(engines.built) == 1
    host.close()


def test_a_call_running_on_a_replaced_engine_finishes_there_and_closes_it(
    host: EngineHost, engines: Engines
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(engine: Engine) -> int:
        entered.set()
        assert release.wait(10)
        return number_of(engine)

    async def scenario() -> tuple[int, int]:
        running = asyncio.ensure_future(host.call(slow))
        assert await asyncio.to_thread(entered.wait, 10)
        write_config({"plugins": {}})
        newer = await host.call(number_of)
        assert engines.built[0].closed == 0  # its call still runs
        release.set()
        return await running, newer

    assert asyncio.run(scenario()) == (0, 1)
    assert engines.built[0].closed == 1  # closed by its last call
    assert engines.built[1].closed == 0
    host.close()


class Handler:
    """An engine call that raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def call(self, work: Callable[[Engine], Any], **_kwargs: object) -> Any:
        raise self.error


async def list_secrets(app: EngineApplication) -> tuple[int, dict[bytes, bytes], dict[str, Any]]:
    """One Connect JSON request to ``ListSecrets``: status, headers, body."""
    body = json.dumps({"pattern": "**"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": LIST_SECRETS,
        "raw_path": LIST_SECRETS.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    requests = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return requests.pop(0) if requests else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), json.loads(content)


def test_an_unexpected_failure_is_answered_by_its_type_alone() -> None:
    host = cast("EngineHost", Handler(RuntimeError("s3cr3t-value in a library's message")))
    status, _headers, body = asyncio.run(list_secrets(EngineApplication(host, ServerLimits())))
    assert status == 500
    assert body == {"code": "internal", "message": "internal error (RuntimeError)"}


def test_a_docker_pass_failure_keeps_its_message_and_hints() -> None:
    error = SecretNotFoundError("app/db").with_hints("try: docker pass ls")
    host = cast("EngineHost", Handler(error))
    status, headers, body = asyncio.run(list_secrets(EngineApplication(host, ServerLimits())))
    assert status == 404
    assert (body["code"], body["message"]) == ("not_found", str(error))
    assert json.loads(headers[HINTS_HEADER.encode()]) == {"hints": ["try: docker pass ls"]}


def test_the_peer_check_serves_the_same_user(caplog: pytest.LogCaptureFixture) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs:
        peer = peers.accepted_peer(ours)
    assert peer is not None
    assert caplog.records == []


def test_the_peer_check_refuses_another_user(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = PeerCredentials(4242, 4242, 4242)
    monkeypatch.setattr(peers, "peer_credentials", lambda _sock: stranger)
    monkeypatch.setattr(PeerCredentials, "trusted", lambda _self: False)
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs, caplog.at_level(logging.WARNING):
        assert peers.accepted_peer(ours, logging.getLogger("docker_pass.docker_proxy")) is None
    (record,) = caplog.records
    assert record.name == "docker_pass.docker_proxy"
    assert record.getMessage() == "refused a connection from pid 4242 (uid 4242)"


def test_the_peer_check_refuses_a_connection_it_cannot_tell(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = socket.socket(socket.AF_UNIX)
    closed.close()
    with caplog.at_level(logging.WARNING):
        assert peers.accepted_peer(closed) is None
    assert "cannot read its credentials" in caplog.text


def test_a_path_socket_removes_only_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "engine.sock"
    with PathSocket(path):
        assert path.stat().st_mode & 0o777 == 0o600
    assert not path.exists()

    listener = PathSocket(path)
    path.unlink()  # a newer engine took the path meanwhile
    with PathSocket(path):
        listener.close()
        assert path.exists()  # not ours any more: left alone


def test_the_lock_names_its_holder_and_sockets(tmp_path: Path) -> None:
    lock = EngineLock(tmp_path / "state" / "engine.lock")
    lock.acquire()
    try:
        lock.record(socket="/run/engine.sock")
        lock.record(abstract_socket="@engine")
        doc = json.loads(lock.path.read_text())
        assert doc["socket"] == "/run/engine.sock"
        assert doc["abstract_socket"] == "@engine"
        assert isinstance(doc["pid"], int)
    finally:
        lock.release()
    assert lock.path.read_text() == ""
