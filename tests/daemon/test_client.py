"""docker-pass's own client of the daemon: standard library only, Connect's JSON codec.

- Through a running daemon, the fronts import neither Connect nor protobuf (nor asyncio,
  OpenTelemetry or http.client): a fresh interpreter's ``sys.modules`` shows it.
- The JSON readers follow protobuf's canonical JSON mapping, including the forms a parser must
  accept besides the ones protobuf-py writes.
- The HTTP/1.1 exchange reads what our server sends (chunked or sized bodies, kept-alive or
  closed connections, errors that are not Connect's); any other answer raises
  DaemonUnavailableError, so the front finishes on the embedded engine, never quoting content.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core import ID, Pattern
from docker_pass.core.errors import NoPluginMatchesError
from docker_pass.core.remote.client import DaemonClient, DaemonError, DaemonUnavailableError
from docker_pass.core.remote.wire import (
    GET_SECRETS,
    GET_VERSION,
    LIST_PLUGINS,
    MalformedMessageError,
    envelope_from_json,
    plugin_status_from_json,
    read_int,
    read_timestamp,
)
from tests.daemon.test_units import HEAVY
from tests.support.accepting import serve_each
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

# -- imports --------------------------------------------------------------------------------------

LEAN_FRONTS = """
import json, os, sys
from docker_pass.core.remote.front import DaemonOrEmbedded, open_engine
from docker_pass.core import Pattern

with open_engine() as engine:
    assert isinstance(engine, DaemonOrEmbedded), type(engine).__name__
    values = [env.value.decode() for env in engine.resolve(Pattern.parse("app/db")).envelopes]
    plugins = [status.name for status in engine.plugins()]
    listed = [info.id.value for info in engine.list_secrets(Pattern.parse("app/**")).infos]
    through_daemon = engine.using_daemon

os.environ["A"] = "se://app/db"
from docker_pass.cli.main import main

codes = [main(["run", "--", "true"]), main(["plugins", "ls"])]
print(json.dumps({
    "values": values,
    "plugins": plugins,
    "listed": listed,
    "through_daemon": through_daemon,
    "codes": codes,
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
}))
"""


def test_the_fronts_stay_lean_through_the_daemon(engine: RunningEngine) -> None:
    with engine.client() as client:
        before = client.info().requests
    out = subprocess.run(
        [sys.executable, "-c", LEAN_FRONTS], capture_output=True, text=True, check=True
    )
    doc = json.loads(out.stdout.splitlines()[-1])
    assert doc["values"] == ["db-secret-1"]
    assert "snapshot" in doc["plugins"]
    assert doc["listed"] == ["app/api", "app/db"]
    assert doc["through_daemon"] is True
    assert doc["codes"] == [0, 0]
    assert not set(doc["modules"]) & HEAVY
    with engine.client() as client:
        after = client.info().requests
    # The CLI's `run` and `plugins ls` went through the daemon too, not an embedded engine.
    assert after[GET_SECRETS] == before.get(GET_SECRETS, 0) + 2
    assert after[LIST_PLUGINS] == before.get(LIST_PLUGINS, 0) + 2


# -- the canonical JSON mapping -------------------------------------------------------------------


def test_envelopes_in_every_accepted_form() -> None:
    canonical = envelope_from_json(
        {
            "id": "a/b",
            "value": "+/8AYQ==",
            "provider": "p",
            "createdAt": "2026-01-02T03:04:05.678Z",
            "metadata": {"k": "v"},
        }
    )
    assert canonical.value == b"\xfb\xff\x00a"
    assert canonical.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    other = envelope_from_json(
        {
            "id": "a/b",
            "value": "-_8AYQ",  # URL-safe, unpadded
            "provider": "p",
            "version": None,  # null: the default
            "created_at": "2026-01-02T05:04:05.678901234+02:00",  # proto name, nanos, offset
            "metadata": {"k": "v"},
            "someNewField": [1, 2],  # a newer engine's: ignored
        }
    )
    assert other.value == canonical.value
    assert other.created_at == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert (other.version, other.resolved_at, other.expires_at) == ("", None, None)


def test_plugins_enums_and_integers_in_every_accepted_form() -> None:
    by_name = plugin_status_from_json({"name": "p", "runStatus": "RUN_STATUS_CRASHED"})
    by_number = plugin_status_from_json({"name": "p", "run_status": 3})
    assert by_name.status == by_number.status == "crashed"
    unknown = plugin_status_from_json({"name": "p", "runStatus": "RUN_STATUS_FROM_THE_FUTURE"})
    assert unknown.status == "stopped"
    assert plugin_status_from_json({"name": "p", "disabled": True}).status == "disabled"
    assert read_int({"pid": "4242"}, "pid") == read_int({"pid": 4242}, "pid") == 4242
    when = read_timestamp({"at": "1970-01-01T00:00:00-01:30"}, "at")
    assert when == datetime(1970, 1, 1, 1, 30, tzinfo=UTC)
    assert when is not None
    assert when.tzinfo == UTC
    assert when.astimezone(timezone(timedelta(hours=-1, minutes=-30))).hour == 0


@pytest.mark.parametrize(
    ("doc", "complaint"),
    [
        ({"id": "a/b", "value": "s3cr3t!!"}, "field 'value' is not a base64 string"),
        ({"id": "a//b", "value": ""}, "field 'id' is not a valid secret ID"),
        ({"id": "a/b", "createdAt": "yesterday"}, "field 'createdAt' is not an RFC 3339"),
        ({"id": "a/b", "metadata": {"k": 1}}, "field 'metadata' is not a map of strings"),
        ({"id": 7}, "field 'id' is not a string"),
    ],
)
def test_malformed_messages_name_the_field_not_the_content(
    doc: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(MalformedMessageError) as caught:
        envelope_from_json(doc)
    assert str(caught.value).startswith(complaint)
    assert "s3cr3t" not in str(caught.value)


# -- HTTP/1.1 on the socket -----------------------------------------------------------------------

Responder = Callable[[bytes], bytes | None]


class ScriptedServer:
    """A Unix-socket server that answers each request with what ``respond`` returns for it
    (``None``: close the connection without answering), and closes connections on demand."""

    def __init__(self, path: Path, respond: Responder) -> None:
        self.path = path
        self.respond = respond
        self.requests: list[bytes] = []
        self.connections = 0
        self.close_after_answer = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(8)
        self._open: list[socket.socket] = []
        serve_each(self._listener, self._handle)

    def _handle(self, conn: socket.socket) -> None:
        self.connections += 1
        self._open.append(conn)
        reader = conn.makefile("rb")
        try:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + reader.read(length)
                self.requests.append(request)
                answer = self.respond(request)
                if answer is None:
                    return
                # Read the flag before answering: the test changes it only once it has the
                # answer, so this request's answer and this decision always agree.
                close = self.close_after_answer
                conn.sendall(answer)
                if close:
                    return
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    def drop_idle_connections(self) -> None:
        """What a server's keep-alive timeout does: close every open connection."""
        for conn in self._open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
        self._open.clear()

    def close(self) -> None:
        self._listener.close()
        self.drop_idle_connections()


def http_answer(status: int, body: bytes, *headers: str, chunked: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", *headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        pieces = [body[:half], body[half:]]
        payload = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces if p)
        payload += b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def json_answer(
    doc: dict[str, Any], *headers: str, status: int = 200, chunked: bool = False
) -> bytes:
    return http_answer(
        status,
        json.dumps(doc).encode(),
        "Content-Type: application/json",
        *headers,
        chunked=chunked,
    )


@pytest.fixture
def scripted(socket_path: Path) -> Iterator[Callable[[Responder], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(respond: Responder) -> ScriptedServer:
        server = ScriptedServer(socket_path, respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


VERSION = {"version": "v9.9.9"}
ENVELOPES = {"envelopes": [{"id": "x/y", "value": "czNjcjN0", "provider": "elsewhere"}]}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_requests_and_bodies(
    scripted: Callable[[Responder], ScriptedServer], socket_path: Path, chunked: bool
) -> None:
    server = scripted(lambda request: json_answer(ENVELOPES, chunked=chunked))
    with DaemonClient(socket_path) as client:
        result = client.resolve(Pattern.parse("x/y"))
    assert [(e.id, e.value) for e in result.envelopes] == [(ID("x/y"), b"s3cr3t")]
    # Not docker-pass's daemon (no report header): the envelopes say who answered.
    assert (result.asked, result.answered) == (["elsewhere"], ["elsewhere"])
    (request,) = server.requests
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == f"POST {GET_SECRETS} HTTP/1.1"
    assert {"Content-Type: application/json", "Connect-Protocol-Version: 1"} <= set(lines)
    assert json.loads(body) == {"pattern": "x/y"}


def test_connections_are_kept_alive_and_renewed(
    scripted: Callable[[Responder], ScriptedServer], socket_path: Path
) -> None:
    extra: list[str] = []
    server = scripted(lambda request: json_answer(VERSION, *extra))
    with DaemonClient(socket_path) as client:
        for _ in range(3):
            assert client.version() == "v9.9.9"
        assert server.connections == 1
        server.drop_idle_connections()  # a keep-alive timeout on the server's side
        assert client.version() == "v9.9.9"
        assert server.connections == 2
        # A server that says it closes: a new connection each time.
        extra.append("Connection: close")
        server.close_after_answer = True
        assert client.version() == "v9.9.9"  # on connection 2, which the server then closes
        assert client.version() == "v9.9.9"
        assert client.version() == "v9.9.9"
        assert server.connections == 4


def test_connect_errors(scripted: Callable[[Responder], ScriptedServer], socket_path: Path) -> None:
    answers = {
        GET_VERSION: json_answer(
            {"code": "failed_precondition", "message": "nope"},
            'docker-pass-hints: {"hints":["try this","then that"]}',
            status=400,
        ),
        GET_SECRETS: json_answer(
            {"code": "not_found", "message": "no plugin matches q/r"},
            'docker-pass-resolution: {"pattern":"q/r"}',
            'docker-pass-hints: {"hints":["plugin p is crashed"]}',
            status=404,
        ),
        LIST_PLUGINS: http_answer(503, b"<html>overloaded</html>", "Content-Type: text/html"),
    }
    scripted(lambda request: answers[request.split(b" ")[1].decode()])
    with DaemonClient(socket_path) as client:
        with pytest.raises(DaemonError) as refused:
            client.info()
        assert (refused.value.code, str(refused.value)) == ("failed_precondition", "nope")
        assert refused.value.hints == ("try this", "then that")
        with pytest.raises(NoPluginMatchesError) as nobody:
            client.resolve(Pattern.parse("q/r"))
        assert nobody.value.hints == ("plugin p is crashed",)
        with pytest.raises(DaemonError) as overloaded:
            client.plugins()
        assert (overloaded.value.code, str(overloaded.value)) == (
            "unavailable",
            "HTTP status 503",
        )


SECRET_BODY = b'{"envelopes": [{"id": "x/y", "value": "s3cr3t-in-a-broken-answer'


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (None, "closed the connection"),
        (b"SSH-2.0-OpenSSH\r\n", "sent a malformed HTTP answer (no HTTP/1.x status line)"),
        (
            http_answer(200, SECRET_BODY, "Content-Type: application/json"),
            "sent a malformed answer to /resolver.v1.ResolverService/GetSecrets",
        ),
        (
            json_answer({"envelopes": [{"id": "x/y", "value": "s3cr3t!"}]}),
            "sent a malformed answer to /resolver.v1.ResolverService/GetSecrets: field 'value'",
        ),
        (
            http_answer(200, SECRET_BODY, "Content-Type: text/plain"),
            "did not answer /resolver.v1.ResolverService/GetSecrets with JSON",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + SECRET_BODY,
            "sent a malformed HTTP answer (the answer ended in its body)",
        ),
        (
            json_answer({"code": "deadline_exceeded", "message": "too slow"}, status=504),
            "did not answer (deadline_exceeded)",
        ),
    ],
    ids=["hang-up", "not-http", "bad-json", "bad-field", "not-json", "short-body", "deadline"],
)
def test_unusable_answers_fail_cleanly(
    scripted: Callable[[Responder], ScriptedServer],
    socket_path: Path,
    answer: bytes | None,
    reason: str,
) -> None:
    server = scripted(lambda request: answer)
    server.close_after_answer = True  # so a short body ends instead of hanging
    with DaemonClient(socket_path) as client, pytest.raises(DaemonUnavailableError) as caught:
        client.resolve(Pattern.parse("x/y"))
    assert reason in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


SECRET_JSON = json.dumps(ENVELOPES).encode()  # holds "czNjcjN0", the value s3cr3t in base64
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + SECRET_JSON,
            "a body neither sized by Content-Length nor chunked",
        ),
        (
            http_answer(
                200,
                gzip.compress(SECRET_JSON),
                "Content-Type: application/json",
                "Content-Encoding: gzip",
            ),
            "a compressed body",
        ),
        (
            CHUNKED_HEAD.replace(b"chunked", b"gzip, chunked")
            + b"\r\n\r\n"
            + f"{len(SECRET_JSON):x}\r\n".encode()
            + SECRET_JSON
            + b"\r\n0\r\n\r\n",
            "a body neither sized by Content-Length nor chunked",
        ),
        (
            CHUNKED_HEAD
            + b"\r\n\r\n"
            + f"{len(SECRET_JSON):x}\r\n".encode()
            + SECRET_JSON
            + b"\r\n0\r\nX-Value: czNjcjN0\r\n\r\n",
            "trailers after the last chunk",
        ),
        (
            CHUNKED_HEAD + b"\r\n\r\n4\r\n" + SECRET_JSON + b"\r\n0\r\n\r\n",
            "a chunk longer than its size",
        ),
        (CHUNKED_HEAD + b"\r\n\r\ns3cr3t\r\n" + SECRET_JSON, "a bad chunk size"),
        (
            b"HTTP/1.1 100 Continue\r\n\r\n" + json_answer(ENVELOPES),
            "a body neither sized by Content-Length nor chunked",
        ),
        (
            b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 9\n\n" + SECRET_JSON,
            "a header line without a colon, or too many",
        ),
    ],
    ids=[
        "until-close",
        "gzip",
        "gzip-chunked",
        "trailers",
        "chunk-overrun",
        "chunk-size",
        "interim",
        "bare-newlines",
    ],
)
def test_answers_our_server_never_sends_are_refused(
    scripted: Callable[[Responder], ScriptedServer],
    socket_path: Path,
    answer: bytes,
    reason: str,
) -> None:
    """Framings uvicorn's h11 never uses are not read: DaemonUnavailableError, which makes the
    front fall back, and a message that names the framing, never the body."""
    server = scripted(lambda request: answer)
    server.close_after_answer = True  # a body that runs to the connection's end ends
    with DaemonClient(socket_path) as client, pytest.raises(DaemonUnavailableError) as caught:
        client.resolve(Pattern.parse("x/y"))
    message = str(caught.value)
    assert message == f"the engine daemon at {socket_path} sent a malformed HTTP answer ({reason})"
    for content in ("s3cr3t", "czNjcjN0", "envelopes", "elsewhere"):
        assert content not in message
        assert content not in repr(caught.value)


def test_the_front_falls_back_on_an_answer_it_does_not_read(
    scripted: Callable[[Responder], ScriptedServer], socket_path: Path, snapshot_data: Path
) -> None:
    """A daemon that passes the version check, then compresses an answer: the command finishes
    on the embedded engine (the snapshot plugin's value), and --debug says why."""
    compressed = http_answer(
        200, gzip.compress(SECRET_JSON), "Content-Type: application/json", "Content-Encoding: gzip"
    )
    answers = {GET_VERSION: json_answer(VERSION), GET_SECRETS: compressed}
    server = scripted(lambda request: answers[request.split(b" ")[1].decode()])
    result = docker_pass(
        "--debug", "run", "--", "sh", "-c", 'printf %s "$A"', env={"A": "se://app/db"}
    )
    assert (result.returncode, result.stdout) == (0, b"db-secret-1")
    assert result.stderr.decode() == (
        f"docker-pass: the engine daemon went away (the engine daemon at {socket_path} sent a "
        "malformed HTTP answer (a compressed body)); using the embedded engine\n"
    )
    assert [request.split(b" ")[1].decode() for request in server.requests] == [
        GET_VERSION,
        GET_SECRETS,
    ]
