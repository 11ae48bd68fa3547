"""``GET /hijack`` on the real daemon: taken before h11 would refuse it, answered ``101`` with
the raw connection handed to a yamux server session (bytes sent along with the head
included), out of the HTTP connection count and idle rule, bounded by the number of external
plugins; anything else gets today's answer."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING

import pytest

from docker_pass.daemon.external.yamux.frames import (
    Flag,
    FrameType,
    encode_header,
    parse_frame,
)
from tests.daemon.engines import start_engine
from tests.daemon.external.hosting import wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

#: The request Docker's SDK sends (``ipc.Hijackify``).
HEAD = (
    b"GET /hijack HTTP/1.1\r\nHost: secrets-engine.localhost\r\n"
    b"Connection: upgrade\r\nUpgrade: tcp\r\n\r\n"
)


def connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(str(path))
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The answer's head and whatever came after it so far."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """A whole HTTP answer sized by Content-Length: its head and body."""
    head, body = read_head(sock)
    size = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < size:
        body += sock.recv(4096)
    return head, body


def ping(ping_id: int) -> bytes:
    return encode_header(FrameType.PING, Flag.SYN, 0, ping_id)


def pong(sock: socket.socket, ping_id: int, pending: bytes = b"") -> bytes:
    """Read frames until the answer to ping ``ping_id`` (failing if the connection ends);
    what was read past it."""
    buffer = bytearray(pending)
    while True:
        parsed = parse_frame(buffer)
        if parsed is not None:
            frame, used = parsed
            del buffer[:used]
            header = frame.header
            if header.type is FrameType.PING and Flag.ACK in header.flags:
                assert header.length == ping_id
                return bytes(buffer)
            continue
        chunk = sock.recv(4096)
        assert chunk, "the connection ended before the ping was answered"
        buffer += chunk


@pytest.mark.parametrize(
    "head",
    [
        HEAD,
        b"GET /hijack?from=test HTTP/1.1\r\nhost: x\r\nconnection:   Keep-Alive,  UPGRADE \r\n"
        b"upgrade:TCP\r\n\r\n",
        b"GET /hijack HTTP/1.1\r\nHOST: x\r\nCONNECTION: Upgrade\r\nUPGRADE: Tcp\r\n"
        b"Content-Length: 0\r\n\r\n",
    ],
    ids=["as-the-sdk-sends-it", "odd-spacing-and-case", "shouting"],
)
def test_a_hijack_is_switched_to_a_yamux_session(engine: RunningEngine, head: bytes) -> None:
    with connect(engine.socket) as sock:
        sock.sendall(head)
        answer, rest = read_head(sock)
        lines = answer.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
        assert {b"Connection: Upgrade", b"Upgrade: tcp"} <= set(lines[1:])
        sock.sendall(ping(7))
        pong(sock, 7, rest)


def test_bytes_sent_with_the_head_reach_the_session(engine: RunningEngine) -> None:
    with connect(engine.socket) as sock:
        sock.sendall(HEAD + ping(41) + ping(42))  # one write: the pings arrive with the head
        _, rest = read_head(sock)
        pong(sock, 42, pong(sock, 41, rest))


@pytest.mark.parametrize(
    ("head", "path"),
    [
        (HEAD.replace(b"GET", b"POST", 1), "/hijack"),
        (HEAD.replace(b"Upgrade: tcp\r\n", b""), "/hijack"),
        (HEAD.replace(b"Upgrade: tcp", b"Upgrade: websocket"), "/hijack"),
        (HEAD.replace(b"/hijack", b"/other"), "/other"),
        (HEAD.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc"), "/hijack"),
    ],
    ids=["post", "no-upgrade", "websocket", "another-path", "with-a-body"],
)
def test_anything_else_gets_today_s_answer(engine: RunningEngine, head: bytes, path: str) -> None:
    with connect(engine.socket) as sock:
        sock.sendall(head)
        answer, body = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert json.loads(body) == {"code": "unimplemented", "message": f"no such service: {path}"}


def test_a_hijacked_connection_is_not_closed_as_an_idle_one(
    tmp_path: Path, socket_path: Path
) -> None:
    running = start_engine(tmp_path / "engine.log", "--idle-timeout", "0.3")
    try:
        with connect(socket_path) as idle, connect(socket_path) as hijacked:
            hijacked.sendall(HEAD)
            _, rest = read_head(hijacked)
            assert idle.recv(1) == b""  # the daemon closed the idle HTTP connection...
            hijacked.sendall(ping(1))
            pong(hijacked, 1, rest)  # ...and the hijacked one still answers
    finally:
        running.kill()


def test_past_the_plugin_limit_a_hijack_is_refused(tmp_path: Path, socket_path: Path) -> None:
    config = tmp_path / "home/.config/docker-pass/config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"engine": {"max_external_plugins": 1}}))
    running = start_engine(tmp_path / "engine.log")
    try:
        first = connect(socket_path)
        first.sendall(HEAD)
        assert read_head(first)[0].startswith(b"HTTP/1.1 101 ")
        with connect(socket_path) as second:
            second.sendall(HEAD)
            answer, body = read_answer(second)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert json.loads(body) == {
            "code": "resource_exhausted",
            "message": "too many external plugins (the limit is 1)",
        }
        first.close()  # its slot is free once the daemon sees it gone

        def switched() -> bool:
            with connect(socket_path) as third:
                third.sendall(HEAD)
                return read_head(third)[0].startswith(b"HTTP/1.1 101 ")

        wait_for(switched, "a hijack to be taken again")
        assert "refused a plugin connection: too many external plugins" in running.log()
    finally:
        running.kill()
