"""The Docker proxy on the wire: what reaches the engine, byte for byte, and what comes back.

The engine here is a recording stand-in on a Unix socket (the real dockerd is in
tests/containers); it answers each request with canned bytes, so the tests can check that the
proxy passes on exactly what each side sent, streams as it goes, splices upgraded connections
with half-close, and rewrites nothing but container create and inspect.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.envelope import Envelope
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.results import Resolution
from docker_pass.daemon.docker.proxy import DockerProxy
from docker_pass.daemon.docker.relay import Upstream

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from docker_pass.core.engine import Engine

VALUES = {"app/key": b"the-value-1234", "app/binary": b"\xff\xfe-bin", "app/nul": b"nul\x00ue"}


class FakeEngine:
    """Answers ``resolve`` from :data:`VALUES` (what the proxy's engine call is given)."""

    def resolve(self, pattern: Pattern) -> Resolution:
        envelopes = [
            Envelope(ID(k), v, provider="docker-pass")
            for k, v in VALUES.items()
            if pattern.matches(k)
        ]
        return Resolution(pattern, envelopes, asked=["docker-pass"], answered=["docker-pass"])


class Recorder:
    """The stand-in engine: records every byte it receives; ``script`` answers a connection."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.script: Callable[[asyncio.StreamReader, asyncio.StreamWriter, Recorder], Any] = (
            _answer_ok
        )
        self.got_eof = threading.Event()
        self.closed = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.script(reader, writer, self)
        finally:
            writer.close()
            self.closed += 1

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        """One request's head and (Content-Length) body, recorded."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.received += head
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        self.received += body
        return head + body


async def _answer_ok(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
) -> None:
    while True:
        try:
            await rec.read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nOK")
        await writer.drain()


class Harness:
    """The stand-in engine and a proxy in front of it (``options``: the proxy's keywords)."""

    def __init__(self, root: Path, **options: Any) -> None:
        self.root = root
        self.options = options
        self.recorder = Recorder()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.engine_path = root / "engine.sock"
        self.proxy_path = root / "proxy.sock"
        self.proxy: DockerProxy | None = None

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        await asyncio.start_unix_server(self.recorder.handle, path=str(self.engine_path))

        async def engine_call(work: Callable[[Engine], Any]) -> Any:
            return await asyncio.to_thread(work, FakeEngine())  # type: ignore[arg-type]

        self.proxy = DockerProxy(
            Upstream(DockerHost(f"unix://{self.engine_path}", "test")),
            engine_call,
            **self.options,
        )
        await asyncio.start_unix_server(self.proxy.handle, path=str(self.proxy_path))

    def connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(self.proxy_path))
        return sock

    def stop(self) -> None:
        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def harness() -> Iterator[Harness]:
    root = Path(tempfile.mkdtemp(prefix="dpw-", dir="/tmp"))
    running = Harness(root)
    running.start()
    yield running
    running.stop()


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _wait(condition: Callable[[], bool], what: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_requests_reach_the_engine_byte_for_byte(harness: Harness) -> None:
    first = (
        b"GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n"
        b"User-Agent: Docker-Client/28.2.2 (linux)\r\nX-Odd-CASE:  spaced value \r\n\r\n"
    )
    body = json.dumps({"Image": "busybox", "Env": ["PLAIN=1"]}).encode()
    second = (
        b"POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: docker\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    with harness.connect() as sock:
        sock.sendall(first)
        assert _read_until(sock, b"\r\n\r\nOK").endswith(b"\r\n\r\nOK")
        sock.sendall(second)  # the same connection: keep-alive is kept
        assert _read_until(sock, b"\r\n\r\nOK").endswith(b"\r\n\r\nOK")
    _wait(lambda: len(harness.recorder.received) == len(first + second), "both requests")
    assert bytes(harness.recorder.received) == first + second


def test_chunked_answers_stream_as_they_come(harness: Harness) -> None:
    step = threading.Event()

    async def stream(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nfirst\r\n")
        await writer.drain()
        await asyncio.to_thread(step.wait, 10)
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await writer.drain()

    harness.recorder.script = stream
    with harness.connect() as sock:
        sock.sendall(b"GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n")
        early = _read_until(sock, b"first\r\n")
        # The first chunk, framing and extension included, arrived before the second was sent.
        assert early == b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nfirst\r\n"
        step.set()
        assert _read_until(sock, b"0\r\n\r\n") == b"6\r\nsecond\r\n0\r\n\r\n"


def test_upgraded_connections_are_spliced_with_half_close(harness: Harness) -> None:
    async def hijack(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        writer.write(
            b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello "
        )
        await writer.drain()
        stdin = await reader.read()  # until the client's half-close
        rec.got_eof.set()
        writer.write(b"got:" + stdin)  # output goes on after stdin ended
        await writer.drain()

    harness.recorder.script = hijack
    with harness.connect() as sock:
        sock.sendall(
            b"POST /v1.41/containers/abc/attach?stream=1&stdin=1 HTTP/1.1\r\nHost: docker\r\n"
            b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
        )
        assert _read_until(sock, b"hello ").endswith(b"\r\n\r\nhello ")
        sock.sendall(b"\x00raw stdin\xff")
        sock.shutdown(socket.SHUT_WR)
        assert harness.recorder.got_eof.wait(10)
        assert _read_all(sock) == b"got:\x00raw stdin\xff"


def test_create_resolves_references_and_records_them(harness: Harness) -> None:
    harness.recorder.script = _answer_ok
    config = {"Image": "busybox", "Env": ["K=se://app/key", "P=plain"], "Labels": {"a": "b"}}
    body = json.dumps(config).encode()
    with harness.connect() as sock:
        sock.sendall(
            b"POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        assert _read_until(sock, b"\r\n\r\nOK").endswith(b"OK")
    _wait(lambda: b"\r\n\r\n" in harness.recorder.received, "the create")
    head, _, sent = bytes(harness.recorder.received).partition(b"\r\n\r\n")
    _wait(
        lambda: (
            len(harness.recorder.received)
            >= len(head) + 4 + int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        ),
        "the body",
    )
    head, _, sent = bytes(harness.recorder.received).partition(b"\r\n\r\n")
    forwarded = json.loads(sent)
    assert forwarded["Env"] == ["K=the-value-1234", "P=plain"]
    assert forwarded["Labels"] == {"a": "b", "docker-pass.references": '{"K": "se://app/key"}'}
    assert forwarded["Image"] == "busybox"


def test_a_failing_reference_never_reaches_the_engine(harness: Harness) -> None:
    body = json.dumps({"Image": "busybox", "Env": ["X=se://app/missing"]}).encode()
    with harness.connect() as sock:
        sock.sendall(
            b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        answer = _read_until(sock, b"}\n")
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(payload) == {"message": "resolving X: secret not found: app/missing"}
    assert bytes(harness.recorder.received) == b""


def test_inspect_shows_references_again(harness: Harness) -> None:
    inspected = {
        "Id": "abc",
        "Config": {
            "Env": ["K=the-value-1234", "P=plain"],
            "Labels": {"docker-pass.references": '{"K": "se://app/key"}'},
        },
    }

    async def inspect(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        payload = json.dumps(inspected).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + f"{len(payload):x}\r\n".encode()
            + payload
            + b"\r\n0\r\n\r\n"
        )
        await writer.drain()

    harness.recorder.script = inspect
    with harness.connect() as sock:
        sock.sendall(b"GET /v1.41/containers/abc/json HTTP/1.1\r\nHost: docker\r\n\r\n")
        answer = _read_until(sock, b"}\n")
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert b"content-length: " in head.lower()
    shown = json.loads(payload)
    assert shown["Config"]["Env"] == ["K=se://app/key", "P=plain"]
    assert b"the-value-1234" not in answer


def test_an_unreachable_engine_is_named(harness: Harness) -> None:
    assert harness.proxy is not None
    harness.engine_path.unlink()
    with harness.connect() as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        answer = _read_all(sock)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502 ")
    message = json.loads(payload)["message"]
    assert message.startswith(
        f"docker-pass: cannot reach the Docker engine at unix://{harness.engine_path}"
    )


def test_an_idle_connection_the_engine_closed_is_opened_again(harness: Harness) -> None:
    async def once(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
        await writer.drain()  # and close, without saying so

    harness.recorder.script = once
    with harness.connect() as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert _read_until(sock, b"\r\n\r\nOK").endswith(b"OK")
        _wait(lambda: harness.recorder.closed == 1, "the engine closing its end")
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert _read_until(sock, b"\r\n\r\nOK").endswith(b"OK")
    assert bytes(harness.recorder.received).count(b"GET ") == 2
