"""The Docker proxy's gate on the wire, with the recording stand-in engine of
test_docker_proxy_wire.py: what reaches the engine for each spelling of a request, what comes
back, and the answers that must never be lost (HTTP/1.0, an early answer, a body too deep).

The same spellings go to the real dockerd in tests/containers/test_proxy_gate.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.daemon.test_docker_proxy_wire import Harness, Recorder, _wait
from tests.support import gate_spellings
from tests.support.raw_http import Conversation, exchange, request

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.support.gate_spellings import Spelling

CID = "3f" * 32
PLACES = {"id": CID, "short": CID[:10], "name": "web", "image": "busybox:latest"}
VALUE = b"the-value-1234"
CREATE_BODY = json.dumps({"Image": "busybox", "Env": ["K=se://app/key", "P=plain"]}).encode()
EXEC_BODY = json.dumps({"Cmd": ["env"], "Env": ["K=se://app/key"]}).encode()


@pytest.fixture
def harness() -> Iterator[Harness]:
    running = Harness(Path(tempfile.mkdtemp(prefix="dpg-", dir="/tmp")))
    running.start()
    yield running
    running.stop()


def _answering(answer: Callable[[bytes], bytes]) -> Any:
    """A stand-in script answering each request with ``answer(request bytes)``."""

    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        while True:
            try:
                received = await rec.read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(received))
            await writer.drain()

    return script


def _json_answer(doc: Any, status: bytes = b"200 OK") -> bytes:
    payload = json.dumps(doc).encode()
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(payload)).encode()
        + b"\r\n\r\n"
        + payload
    )


def _ids(table: list[Spelling]) -> list[str]:
    return [f"{s.method} {s.target}" for s in table]


@pytest.mark.parametrize("spelling", gate_spellings.CREATE, ids=_ids(gate_spellings.CREATE))
def test_a_create_is_resolved_exactly_where_dockerd_routes_one(
    harness: Harness, spelling: Spelling
) -> None:
    method, target = spelling.fill(**PLACES)
    sent = request(method, target, CREATE_BODY)
    got = exchange(harness.proxy_path, sent)
    assert got.status == 200, got
    _wait(lambda: len(harness.recorder.received) > 0, "the request")
    head, _, body = bytes(harness.recorder.received).partition(b"\r\n\r\n")
    if not spelling.routed:
        _wait(lambda: bytes(harness.recorder.received) == sent, "the request as it came")
        return
    assert head.split(b"\r\n")[0] == f"{method} {target} HTTP/1.1".encode()
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    assert length >= 4097  # padded out of dockerd's --debug log
    _wait(lambda: len(harness.recorder.received) >= len(head) + 4 + length, "the body")
    body = bytes(harness.recorder.received).partition(b"\r\n\r\n")[2]
    forwarded = json.loads(body)
    assert forwarded["Env"] == ["K=the-value-1234", "P=plain"]
    assert forwarded["Labels"] == {"docker-pass.references": '{"K": "se://app/key"}'}
    assert VALUE not in got.raw


@pytest.mark.parametrize("spelling", gate_spellings.EXEC, ids=_ids(gate_spellings.EXEC))
def test_an_exec_is_resolved_exactly_where_dockerd_routes_one(
    harness: Harness, spelling: Spelling
) -> None:
    method, target = spelling.fill(**PLACES)
    got = exchange(harness.proxy_path, request(method, target, EXEC_BODY))
    assert got.status == 200, got
    _wait(lambda: b"\r\n\r\n" in harness.recorder.received, "the request")
    if spelling.routed:
        _wait(lambda: VALUE in harness.recorder.received, "the resolved value")
        assert b"se://" not in harness.recorder.received
        assert b"docker-pass.references" not in harness.recorder.received  # no labels in an exec
    else:
        _wait(lambda: EXEC_BODY in harness.recorder.received, "the body as it came")


INSPECTED = {
    "Id": CID,
    "Config": {
        "Env": ["K=the-value-1234", "P=plain"],
        "Labels": {"docker-pass.references": '{"K": "se://app/key"}'},
    },
}
INSPECTS = [
    *[(s, INSPECTED) for s in gate_spellings.INSPECT],
    *[
        (s, {"Config": INSPECTED["Config"], "ContainerConfig": INSPECTED["Config"]})
        for s in gate_spellings.IMAGE_INSPECT
    ],
]


@pytest.mark.parametrize(("spelling", "doc"), INSPECTS, ids=_ids([s for s, _ in INSPECTS]))
def test_inspect_shows_references_exactly_where_dockerd_routes_one(
    harness: Harness, spelling: Spelling, doc: dict[str, Any]
) -> None:
    harness.recorder.script = _answering(lambda _: _json_answer(doc))
    method, target = spelling.fill(**PLACES)
    got = exchange(harness.proxy_path, request(method, target))
    if method == "HEAD":
        assert got.status == 200
        return
    shown = got.json()
    if not spelling.routed:
        assert shown == doc  # passed on as it came
        return
    assert VALUE not in got.raw
    for section in ("Config", "ContainerConfig"):
        if section in doc:
            assert shown[section]["Env"] == ["K=se://app/key", "P=plain"]


def test_inspect_over_http_1_0_is_answered(harness: Harness) -> None:
    harness.recorder.script = _answering(lambda _: _json_answer(INSPECTED))
    sent = request("GET", f"/containers/{CID}/json", version=b"HTTP/1.0", host=False, close=False)
    got = exchange(harness.proxy_path, sent)
    assert got.status == 200
    assert got.json()["Config"]["Env"] == ["K=se://app/key", "P=plain"]
    # The engine got the client's own HTTP/1.0 request.
    assert bytes(harness.recorder.received) == sent


def test_a_close_delimited_http_1_0_answer_is_passed_on(harness: Harness) -> None:
    async def old(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        await rec.read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK, and more")
        await writer.drain()

    harness.recorder.script = old
    got = exchange(harness.proxy_path, request("GET", "/_ping", version=b"HTTP/1.0", host=False))
    assert (got.version, got.status, got.body) == (b"HTTP/1.0", 200, b"OK, and more")


def test_an_early_answer_and_close_reaches_the_client(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async def early(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rec: Recorder
    ) -> None:
        rec.received += await reader.readuntil(b"\r\n\r\n")  # the head only, as a 301 does
        writer.write(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    harness.recorder.script = early
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            got = exchange(
                harness.proxy_path, request("POST", "/v1.41//containers/create", b" " * 4_000_000)
            )
            assert (got.status, got.headers[b"location"]) == (301, b"/x")
    _no_tracebacks(caplog)


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_a_deeply_nested_create_is_refused_cleanly(
    harness: Harness, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    body = b'{"Env":["K=se://app/key"],"Labels":' + b"[" * depth + b"]" * depth + b"}"
    with caplog.at_level(logging.DEBUG):
        got = exchange(harness.proxy_path, request("POST", "/containers/create", body))
        assert got.status == 400
        assert got.message() == "docker-pass: cannot read the request body: it is nested too deeply"
        again = exchange(harness.proxy_path, request("GET", "/_ping"))
        assert again.status == 200
    assert b"create" not in harness.recorder.received
    _no_tracebacks(caplog)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (["=se://app/key"], "an Env entry has no variable name (it starts with =)"),
        (["A=se://app/key", "=plain"], "an Env entry has no variable name (it starts with =)"),
        (["B=se://app/binary"], "resolving B: the value is not UTF-8 text"),
        (["N=se://app/nul"], "resolving N: the value of app/nul holds a NUL byte"),
    ],
)
@pytest.mark.parametrize("target", ["/v1.41/containers/create", f"/containers/{CID}/exec"])
def test_what_dockerd_would_quote_never_reaches_it(
    harness: Harness, env: list[str], message: str, target: str
) -> None:
    body = json.dumps({"Image": "busybox", "Cmd": ["true"], "Env": env}).encode()
    got = exchange(harness.proxy_path, request("POST", target, body))
    assert got.status == 400
    assert got.message().startswith(message)
    for value in (VALUE, b"\xff\xfe-bin", b"nul\x00ue", b"plain"):
        assert value not in got.raw
    assert bytes(harness.recorder.received) == b""


def test_a_request_h11_cannot_read_is_answered_400(harness: Harness) -> None:
    for bad in (
        b"POST /containers/create?x=\xff HTTP/1.1\r\nHost: d\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\nHost: d\r\nBad Header\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\n\r\n",
    ):
        got = exchange(harness.proxy_path, bad)
        assert got.status == 400, got
        assert got.message() == "docker-pass: cannot read the request: it is not valid HTTP/1.1"
    assert bytes(harness.recorder.received) == b""


def test_expect_100_continue_on_a_create(harness: Harness) -> None:
    headers = [(b"Expect", b"100-continue")]
    head = request("POST", "/containers/create", CREATE_BODY, headers=headers)
    with Conversation(harness.proxy_path) as conversation:
        conversation.send(head.partition(b"\r\n\r\n")[0] + b"\r\n\r\n")
        assert conversation.answer(informational=True).status == 100
        conversation.send(CREATE_BODY)
        assert conversation.answer().status == 200
    assert VALUE in harness.recorder.received
    assert b"expect" not in harness.recorder.received.lower()


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert "never retrieved" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    assert all(record.levelno < logging.ERROR for record in caplog.records)


CONTAINERS = [
    {"Id": CID, "Names": ["/web"], "Labels": {"docker-pass.references": '{"K": "se://app/key"}'}},
    {"Id": "ab" * 32, "Names": ["/plain", "/web/alias"], "Labels": {"x": "y"}},
    {"Id": "3f3a" + "0" * 60, "Names": ["/files"], "Labels": {"x-secret:db/pw": "/run/pw"}},
    {"Id": "cd" * 32, "Names": ["/3f3f"], "Labels": {}},
]


def _engine_with_containers(received: bytes) -> bytes:
    if received.startswith(b"GET /containers/json?all=1 "):
        return _json_answer(CONTAINERS)
    return _json_answer({"Id": "sha256:" + "e" * 64}, b"201 Created")


@pytest.mark.parametrize("spelling", gate_spellings.COMMIT, ids=_ids(gate_spellings.COMMIT))
def test_a_commit_of_a_container_holding_secrets_is_refused(
    harness: Harness, spelling: Spelling
) -> None:
    harness.recorder.script = _answering(_engine_with_containers)
    method, target = spelling.fill(**PLACES)
    got = exchange(harness.proxy_path, request(method, target))
    assert got.status == 403, got
    assert got.message() == (
        f"docker-pass: container {CID[:12]} holds secrets resolved by docker-pass (variables K); "
        "committing it would store them in the image (its config and its files), so the proxy "
        "does not"
    )
    assert b"commit" not in harness.recorder.received  # only the lookup reached the engine


@pytest.mark.parametrize(
    ("container", "refused"),
    [
        ("files", "files /run/pw"),
        ("3f3a", "files /run/pw"),  # the one ID it starts
        ("3f3f", None),  # a name wins over an ID prefix, as in dockerd
        ("3f", None),  # ambiguous: dockerd refuses it
        ("plain", None),
        ("web/alias", None),  # a link's name is the linked container's
        ("nonexistent", None),
        ("", None),
    ],
)
def test_which_container_a_commit_means(
    harness: Harness, container: str, refused: str | None
) -> None:
    harness.recorder.script = _answering(_engine_with_containers)
    got = exchange(harness.proxy_path, request("POST", f"/v1.41/commit?container={container}"))
    if refused is None:
        assert got.status == 201
        _wait(lambda: b"POST /v1.41/commit" in harness.recorder.received, "the commit")
    else:
        assert got.status == 403
        assert f"({refused})" in got.message()


def test_a_commit_with_an_unreadable_query_is_refused(harness: Harness) -> None:
    got = exchange(harness.proxy_path, request("POST", "/commit?container=web;x"))
    assert got.status == 400
    assert got.message() == (
        "docker-pass: cannot read the request target: invalid semicolon separator in query"
    )
    assert bytes(harness.recorder.received) == b""


def _received_body(harness: Harness) -> dict[str, Any]:
    def whole() -> bool:
        head, _, body = bytes(harness.recorder.received).partition(b"\r\n\r\n")
        length = head.lower().split(b"content-length: ")
        return len(length) == 2 and len(body) >= int(length[1].split(b"\r\n")[0])

    _wait(whole, "a whole request")
    doc: dict[str, Any] = json.loads(bytes(harness.recorder.received).partition(b"\r\n\r\n")[2])
    return doc


@pytest.mark.parametrize(
    "framing",
    [
        b"Transfer-Encoding: chunked\r\n\r\n",
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",  # chunked wins, as in Go
    ],
)
def test_a_chunked_create_is_resolved(harness: Harness, framing: bytes) -> None:
    half = len(CREATE_BODY) // 2
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for part in (CREATE_BODY[:half], CREATE_BODY[half:])
    )
    sent = (
        b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\n"
        + framing
        + chunks
        + b"0\r\n\r\n"
    )
    assert exchange(harness.proxy_path, sent).status == 200
    assert _received_body(harness)["Env"] == ["K=the-value-1234", "P=plain"]


def test_a_create_pipelined_behind_another_request_is_resolved(harness: Harness) -> None:
    with Conversation(harness.proxy_path) as conversation:
        conversation.send(
            request("GET", "/_ping", close=False)
            + request("POST", "/%63ontainers/create", CREATE_BODY, close=False)
        )
        assert conversation.answer().status == 200
        assert conversation.answer().status == 200
    _wait(lambda: VALUE in harness.recorder.received, "the resolved create")
    create = bytes(harness.recorder.received).partition(b"POST /%63ontainers/create")[2]
    assert json.loads(create.partition(b"\r\n\r\n")[2])["Env"] == ["K=the-value-1234", "P=plain"]


def test_a_create_body_with_bad_chunking_is_answered_400(harness: Harness) -> None:
    sent = (
        b"POST /containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n"
    )
    got = exchange(harness.proxy_path, sent)
    assert got.status == 400
    assert bytes(harness.recorder.received) == b""
