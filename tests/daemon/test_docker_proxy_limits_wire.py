"""The Docker proxy's limits on the wire, with the recording stand-in engine of
test_docker_proxy_wire.py: the idle rule (which also ends a request head that never ends), the
connection limit, and shutting down with sessions open."""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.limits import ServerLimits
from tests.daemon.test_docker_proxy_gate_wire import _no_tracebacks, harness
from tests.daemon.test_docker_proxy_wire import Harness, _wait
from tests.support.raw_http import exchange, read_answer, request

if TYPE_CHECKING:
    import pytest

    from tests.daemon.test_docker_proxy_wire import Recorder

__all__ = ["harness"]  # the fixture, used here


def _limited(**options: Any) -> Harness:
    running = Harness(Path(tempfile.mkdtemp(prefix="dpg-", dir="/tmp")), **options)
    running.start()
    return running


def test_a_request_head_that_never_ends_is_closed_at_the_idle_timeout() -> None:
    running = _limited(limits=ServerLimits(idle_timeout=0.3))
    try:
        with socket.socket(socket.AF_UNIX) as half, socket.socket(socket.AF_UNIX) as idle:
            half.settimeout(10)
            half.connect(str(running.proxy_path))
            half.sendall(b"POST /containers/create HTTP/1.1\r\nHost: docker\r\n")  # no end
            idle.settimeout(10)
            idle.connect(str(running.proxy_path))
            idle.sendall(request("GET", "/_ping", close=False))
            assert read_answer(idle).status == 200
            # Both are closed by the proxy, with nothing more said (a timeout here fails).
            assert half.recv(100) == b""
            assert idle.recv(100) == b""
        assert b"create" not in running.recorder.received
    finally:
        running.stop()


def test_connections_past_the_limit_are_answered_503() -> None:
    running = _limited(max_connections=2)
    try:
        held = [socket.socket(socket.AF_UNIX) for _ in range(2)]
        for sock in held:
            sock.settimeout(10)
            sock.connect(str(running.proxy_path))
            sock.sendall(request("GET", "/_ping", close=False))
            assert read_answer(sock).status == 200  # served: it counts
        refused = exchange(running.proxy_path, request("GET", "/_ping"))
        assert refused.status == 503
        assert refused.json() == {
            "message": "docker-pass: too many connections to the Docker proxy (the limit is 2)"
        }
        held.pop().close()
        _wait(
            lambda: exchange(running.proxy_path, request("GET", "/_ping")).status == 200,
            "a freed slot served again",
        )
        for sock in held:
            sock.close()
    finally:
        running.stop()


def test_shutting_down_ends_open_sessions_quietly(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async def endless(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await asyncio.Event().wait()  # an event stream that never ends

    harness.recorder.script = endless
    assert harness.proxy is not None
    proxy = harness.proxy
    with caplog.at_level(logging.DEBUG), socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(harness.proxy_path))
        sock.sendall(request("GET", "/v1.41/events", close=False))
        seen = b""
        while b"first" not in seen:
            seen += sock.recv(1000)
        harness.loop.call_soon_threadsafe(proxy.close_connections)
        while sock.recv(1000):  # the rest of the chunk, then the close (or the timeout fails)
            pass
        _wait(lambda: not proxy._tasks, "the session's end")
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), harness.loop).result(10)
    _no_tracebacks(caplog)
