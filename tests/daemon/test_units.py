"""The pieces without a daemon: message mapping, errors, the version check, imports, codegen."""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID, Envelope
from docker_pass.core.engine import Engine
from docker_pass.core.errors import (
    FatalPluginError,
    InvalidPatternError,
    NoPluginMatchesError,
    UnknownPluginError,
    UsageError,
)
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core.remote import open_engine
from docker_pass.core.remote.front import find_daemon
from docker_pass.core.remote.wire import (
    ENGINE_VERSION,
    envelope_from_json,
    is_engine_version,
    plugin_status_from_json,
)
from docker_pass.core.results import PluginStatus
from docker_pass.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.daemon.protocol import (
    connect_error,
    envelope_message,
    json_header,
    plugin_detail,
    plugin_message,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


def test_envelope_round_trip() -> None:
    # The daemon writes with protobuf-py's canonical JSON; the client reads with the standard
    # library: the two must agree.
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    env = Envelope(ID("a/b"), b"\x00\xff s3cr3t", "p", "7", when, when, None, {"k": "v"})
    again = envelope_from_json(json.loads(envelope_message(env).to_json()))
    assert again == env
    assert "s3cr3t" not in repr(again)


@pytest.mark.parametrize("state", ["running", "stopped", "crashed", "retries-exceeded", "disabled"])
def test_plugin_status_round_trip(state: str) -> None:
    status = PluginStatus(
        name="p",
        version="1.0",
        status=state,
        configurable=True,
        enabled=state != "disabled",
        pattern="app/**",
        message="why" if state == "crashed" else "",
        storage="somewhere",
        capabilities=READ_WRITE,
        changed_at=1_700_000_000.25,
        external=True,
    )
    message = json.loads(plugin_message(status).to_json())
    detail = json.loads(json_header(plugin_detail(status)))
    assert plugin_status_from_json(message, detail) == status
    # Without docker-pass's header (another engine's answer), the public fields still map.
    bare = plugin_status_from_json(message)
    assert (bare.status, bare.pattern, bare.storage) == (state, "app/**", "")


def test_json_headers_are_compact_ascii() -> None:
    report = dockerpass_pb.Resolution(
        asked=["a"], errors={"a": "caf\u00e9 \u2014 down\n"}, pattern="x"
    )
    value = json_header(report)
    assert value.isascii()
    assert value == json.dumps(json.loads(value), separators=(",", ":"))  # compact
    assert "\n" not in value  # a header value cannot hold a line break
    assert dockerpass_pb.Resolution.from_json(value) == report


def test_errors_keep_only_our_own_messages() -> None:
    cases = [
        (InvalidPatternError("a//b", "empty component"), "invalid_argument"),
        (NoPluginMatchesError("x/y"), "not_found"),
        (UnknownPluginError("x", ["a"]), "not_found"),
        (UsageError("not configurable"), "failed_precondition"),
        (FatalPluginError("broken; fix it"), "unavailable"),
    ]
    for exc, code in cases:
        error = connect_error(exc)
        assert (error.code.value, error.message) == (code, str(exc))
    # A library's error text could hold data: only its kind crosses the socket.
    leaked = connect_error(ValueError("s3cr3t-value"))
    assert (leaked.code.value, leaked.message) == ("internal", "internal error (ValueError)")


def test_version_rule() -> None:
    assert is_engine_version(ENGINE_VERSION)
    # Go's semver.IsValid, as Docker's client applies it: v1 and v1.2 are valid shorthands.
    for good in ("v1.2.3", "v0.0.1-rc.1", "v10.20.30+build.5", "v1.2", "v1"):
        assert is_engine_version(good)
    for bad in ("1.2.3", "v1.2-rc.1", "v1.2.3-01", "version 1", "v01.2.3", ""):
        assert not is_engine_version(bad)


class _FakeEngine(BaseHTTPRequestHandler):
    """A Connect server that answers GetVersion with a version clients must reject."""

    version = "1.0"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = json.dumps({"version": self.version}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _UnixHTTPServer(socketserver.ThreadingUnixStreamServer):
    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, _ = super().get_request()
        return sock, ("local", 0)  # BaseHTTPRequestHandler wants an (address, port)


@pytest.fixture
def fake_engine(socket_path: Path) -> Iterator[Path]:
    server = _UnixHTTPServer(str(socket_path), _FakeEngine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield socket_path
    server.shutdown()
    server.server_close()


def test_a_daemon_with_a_bad_version_is_not_used(fake_engine: Path) -> None:
    client, reason = find_daemon()
    assert client is None
    assert reason == (
        f"the engine at {fake_engine} answered version '1.0', not a v-prefixed semantic version"
    )
    reasons: list[str] = []
    engine = open_engine(on_fallback=reasons.append)
    assert isinstance(engine, Engine)
    assert reasons == [reason]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.splitlines()[-1])}


#: What no front may import: Connect, its HTTP client pyqwest (which brings asyncio and
#: OpenTelemetry), protobuf-py (modules ``protobuf`` and ``protobuf_ext``), Google's protobuf,
#: the daemon's server, and ``http`` (http.client's email and ssl imports cost ~30 ms).
HEAVY = {
    "asyncio",
    "connectrpc",
    "google",
    "h11",
    "http",
    "opentelemetry",
    "protobuf",
    "protobuf_ext",
    "pyqwest",
    "uvicorn",
}


def test_light_imports_when_no_daemon_runs(socket_path: Path) -> None:
    assert not _modules_after("import docker_pass.core.remote") & HEAVY
    # `run` without a socket file: the daemon check costs a stat, never protobuf.
    code = (
        "import os\n"
        "os.environ['A'] = 'se://missing/one'\n"
        "from docker_pass.cli.main import main\n"
        "main(['run', '--', 'true'])\n"
    )
    assert not _modules_after(code) & HEAVY
    for verb in (["get", "x"], ["ls"], ["version"]):
        code = f"from docker_pass.cli.main import main\nmain({verb!r})\n"
        assert not _modules_after(code) & HEAVY, verb


def test_generated_code_is_current() -> None:
    pytest.importorskip("grpc_tools")
    result = subprocess.run(
        [sys.executable, str(ROOT / "daemon/codegen.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"regenerate with daemon/codegen.py:\n{result.stderr}"


def test_a_hung_daemon_is_not_waited_on(socket_path: Path) -> None:
    from docker_pass.core.remote import client as _imported  # noqa: F401 - time only the check

    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(socket_path))
    silent.listen(8)  # the kernel accepts connections; nobody ever answers
    try:
        started = time.monotonic()
        client, reason = find_daemon()
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert client is None
    assert reason == f"the engine daemon at {socket_path} did not answer within 0.2 s"
    assert elapsed < 2.0  # PROBE_TIMEOUT is 0.2 s; generous for a loaded machine
