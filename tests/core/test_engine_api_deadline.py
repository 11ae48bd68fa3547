"""A Docker engine that answers byte by byte cannot hold a call past its timeout, over a Unix
socket or TCP; a whole answer in time is read as before (a fake engine: the real one answers
at once)."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.docker.engine_api import DockerApi, DockerTimeoutError
from tests.support.accepting import serve_each

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BODY = b'[{"Id": "abc", "Names": ["/web"]}]'
WHOLE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + b"Content-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class FakeEngine:
    """Answers every connection with ``answer``, one byte per ``pause`` seconds (all at once
    when ``pause`` is 0), until it is closed."""

    def __init__(self, listener: socket.socket, answer: bytes, pause: float) -> None:
        self.listener = listener
        self.answer = answer
        self.pause = pause
        self.closed = threading.Event()
        serve_each(listener, self._answer)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if not self.pause:
                    conn.sendall(self.answer)
                    return
                for byte in self.answer:
                    conn.sendall(bytes([byte]))
                    if self.closed.wait(self.pause):
                        return
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.listener.close()


@pytest.fixture(params=["unix", "tcp"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve(engine_kind: str, tmp_path: Path) -> Iterator[object]:
    made: list[FakeEngine] = []

    def start(answer: bytes, pause: float) -> DockerApi:
        if engine_kind == "unix":
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            path = tmp_path / f"engine{len(made)}.sock"
            listener.bind(str(path))
            url = f"unix://{path}"
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        listener.listen(8)
        made.append(FakeEngine(listener, answer, pause))
        return DockerApi(DockerHost(url, "test"), timeout=1.0)

    yield start
    for engine in made:
        engine.close()


def call_in_thread(docker: DockerApi) -> tuple[threading.Event, list[object]]:
    done, outcome = threading.Event(), list[object]()

    def call() -> None:
        try:
            outcome.append(docker.containers())
        except Exception as exc:  # noqa: BLE001 - the test looks at which
            outcome.append(exc)
        done.set()

    threading.Thread(target=call, daemon=True).start()
    return done, outcome


def test_a_whole_answer_in_time_is_read(serve: object) -> None:
    docker = serve(WHOLE, 0)  # type: ignore[operator]
    assert docker.containers() == [{"Id": "abc", "Names": ["/web"]}]


def test_an_answer_dripped_byte_by_byte_ends_as_a_timeout(serve: object) -> None:
    # One byte every 0.2 s: each read waits far less than the 1 s timeout, and the whole
    # answer would take ~30 s.  The call must end at its deadline instead.
    docker = serve(WHOLE, 0.2)  # type: ignore[operator]
    done, outcome = call_in_thread(docker)
    assert done.wait(20), "a dripping engine held the call past its deadline"
    assert len(outcome) == 1
    error = outcome[0]
    assert isinstance(error, DockerTimeoutError), error
    assert "did not answer in time" in str(error)
    assert "abc" not in str(error)


def test_headers_that_never_end_end_as_a_timeout(serve: object) -> None:
    docker = serve(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: y\r\n" * 10_000, 0.05)  # type: ignore[operator]
    done, outcome = call_in_thread(docker)
    assert done.wait(20), "a dripping engine held the call past its deadline"
    assert isinstance(outcome[0], DockerTimeoutError), outcome
