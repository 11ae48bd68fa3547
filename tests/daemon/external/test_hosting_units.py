"""The external plugin host's parts, one at a time: the registration rules, the hijack's
request head, what the engine reads of a plugin's answers, the launch environment, the
restart policy, the wire's zero time and the build's commit."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf import Oneof
from protobuf.wkt import Timestamp

from docker_pass.core.envelope import Envelope
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import Capability
from docker_pass.daemon.external.client import CallFailedError, _decoded, _error
from docker_pass.daemon.external.host import HostSettings
from docker_pass.daemon.external.launcher import LAUNCH_ENV, launch_environment
from docker_pass.daemon.external.plugin import ExternalPlugin
from docker_pass.daemon.external.registration import Registered, validate
from docker_pass.daemon.external.supervisor import RestartPolicy
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb
from docker_pass.daemon.hijack import is_hijack
from docker_pass.daemon.protocol import envelope_message
from tests.daemon.upstream_wire import UpstreamWireClient

if TYPE_CHECKING:
    from pathlib import Path

    from tests.daemon.engines import RunningEngine


def request(
    name: str = "p", version: str = "v1.0.0", pattern: str | None = "a/**"
) -> plugins_pb.RegisterPluginRequest:
    kind = None
    if pattern is not None:
        provider = plugins_pb.SecretsProvider(pattern=pattern)
        kind = Oneof("secrets_provider", provider)
    return plugins_pb.RegisterPluginRequest(name=name, version=version, metadata=kind)  # type: ignore[arg-type]


def test_a_valid_registration() -> None:
    assert validate(request(), None) == Registered("p", "v1.0.0", Pattern("a/**"))
    assert validate(request(name="p"), "p").name == "p"


@pytest.mark.parametrize(
    ("asked", "launched_as", "code", "message"),
    [
        (request(name=""), None, Code.INVALID_ARGUMENT, "plugin name cannot be empty"),
        (request(name="a b"), None, Code.INVALID_ARGUMENT, "plugin name must be 1 to 64"),
        (request(name="x" * 65), None, Code.INVALID_ARGUMENT, "plugin name must be 1 to 64"),
        (request(name="-x"), None, Code.INVALID_ARGUMENT, "starting with a letter or digit"),
        (request(name="q"), "p", Code.INVALID_ARGUMENT, "cannot be changed when launched"),
        (request(version="1.0.0"), None, Code.INVALID_ARGUMENT, "not a v-prefixed semantic"),
        (request(version="v01.0"), None, Code.INVALID_ARGUMENT, "not a v-prefixed semantic"),
        (request(pattern="a//b"), None, Code.INVALID_ARGUMENT, "its pattern is not a valid"),
        (request(pattern=None), None, Code.UNIMPLEMENTED, "neither kind of plugin"),
    ],
)
def test_registrations_that_are_refused(
    asked: plugins_pb.RegisterPluginRequest, launched_as: str | None, code: Code, message: str
) -> None:
    with pytest.raises(ConnectError) as refused:
        validate(asked, launched_as)
    assert refused.value.code is code
    assert message in refused.value.message


def test_an_access_control_module_is_not_hosted() -> None:
    asked = plugins_pb.RegisterPluginRequest(
        name="acm",
        version="v1.0.0",
        metadata=Oneof("access_control_module", plugins_pb.AccessControlModule()),  # type: ignore[arg-type]
    )
    with pytest.raises(ConnectError, match="an access control module"):
        validate(asked, None)


@pytest.mark.parametrize(
    ("method", "target", "headers", "taken"),
    [
        (b"GET", b"/hijack", [(b"connection", b"upgrade"), (b"upgrade", b"tcp")], True),
        (b"GET", b"/hijack?x", [(b"Connection", b" a, Upgrade "), (b"Upgrade", b" TCP ")], True),
        (b"POST", b"/hijack", [(b"connection", b"upgrade"), (b"upgrade", b"tcp")], False),
        (b"GET", b"/hijacked", [(b"connection", b"upgrade"), (b"upgrade", b"tcp")], False),
        (b"GET", b"/hijack", [(b"connection", b"keep-alive"), (b"upgrade", b"tcp")], False),
        (b"GET", b"/hijack", [(b"connection", b"upgrade"), (b"upgrade", b"websocket")], False),
        (
            b"GET",
            b"/hijack",
            [(b"connection", b"upgrade"), (b"upgrade", b"tcp"), (b"content-length", b"2")],
            False,
        ),
        (
            b"GET",
            b"/hijack",
            [(b"connection", b"upgrade"), (b"upgrade", b"tcp"), (b"transfer-encoding", b"x")],
            False,
        ),
    ],
)
def test_what_a_hijack_is(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], taken: bool
) -> None:
    assert is_hijack(method, target, headers) is taken


def test_envelopes_without_expiry_carry_go_s_zero_time() -> None:
    plain = envelope_message(Envelope(ID("a/b"), b"v", provider="p"))
    assert plain.expires_at is not None
    assert plain.expires_at.seconds == -62135596800
    assert json.loads(plain.to_json())["expiresAt"] == "0001-01-01T00:00:00Z"
    when = datetime(2030, 1, 2, tzinfo=UTC)
    dated = envelope_message(Envelope(ID("a/b"), b"v", expires_at=when))
    assert json.loads(dated.to_json())["expiresAt"] == "2030-01-02T00:00:00Z"


def external(name: str = "ext") -> ExternalPlugin:
    registered = Registered(name, "v1.0.0", Pattern("a/**"))
    return ExternalPlugin(registered, None, None, origin="test", deadline=1.0)  # type: ignore[arg-type]


def test_what_the_engine_reads_of_a_plugin_s_envelopes() -> None:
    plugin = external()
    zero = Timestamp(seconds=-62135596800)
    item = resolver_pb.Envelope(
        id="a/b",
        value=b"v",
        provider="someone-else",
        version="v9",
        created_at=Timestamp(seconds=1_700_000_000),
        expires_at=zero,
        metadata={"k": "m"},
    )
    read = plugin._envelope(item)
    assert read is not None
    assert (read.id.value, read.value, read.provider, read.version) == ("a/b", b"v", "ext", "v9")
    assert read.expires_at is None  # year 1: no expiry
    assert read.created_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert dict(read.metadata) == {"k": "m"}
    assert plugin._envelope(resolver_pb.Envelope(id="a//b")) is None  # no such ID: dropped
    assert plugin.capabilities == frozenset({Capability.READ})


def test_a_plugin_s_error_answers() -> None:
    body = json.dumps({"code": "not_found", "message": "secret not found"}).encode()
    found = _error(404, b"application/json", body)
    assert (found.code, found.message) == ("not_found", "secret not found")
    bare = _error(503, b"text/plain", b"busy")
    assert (bare.code, bare.message) == ("unknown", "HTTP status 503")
    long = _error(
        500, b"application/json", json.dumps({"code": "x", "message": "m" * 999}).encode()
    )
    assert len(long.message) == 300


def test_a_gzip_answer_is_read_within_its_bound() -> None:
    assert _decoded({b"content-encoding": b"gzip"}, gzip.compress(b"hello")) == b"hello"
    bomb = gzip.compress(b"\0" * (9 * 1024 * 1024))  # 9 MiB of zeros in a few KiB
    with pytest.raises(CallFailedError, match="too large"):
        _decoded({b"content-encoding": b"gzip"}, bomb)
    with pytest.raises(CallFailedError, match="unknown compression"):
        _decoded({b"content-encoding": b"br"}, b"")


def test_a_launched_plugin_s_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", "not for plugins")
    monkeypatch.setenv("LC_ALL", "C")
    env = launch_environment("fixed", 5.0)
    assert json.loads(env[LAUNCH_ENV]) == {"name": "fixed", "timeout": 5_000_000_000, "fd": 3}
    assert "OP_SERVICE_ACCOUNT_TOKEN" not in env
    assert env["LC_ALL"] == "C"
    assert env["HOME"]


def test_the_restart_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RestartPolicy()
    assert [policy.pause(n) for n in (1, 2, 3, 4, 10)] == [2.0, 4.0, 8.0, 16.0, 60.0]
    assert policy.retries == 5
    configured = RestartPolicy.configured({"engine": {"plugin_backoff": 3, "plugin_retries": 9}})
    assert (configured.backoff, configured.retries) == (3.0, 9)
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_BACKOFF", "0.05")
    assert RestartPolicy.configured({}).backoff == 0.05


def _load_build_info(path: Path) -> object:
    spec = importlib.util.spec_from_file_location("copied_build_info", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_is_this_checkout_s_commit_or_unknown(tmp_path: Path) -> None:
    from docker_pass.daemon import build_info

    date, commit = build_info.build_info()
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit)
    assert datetime.fromisoformat(date).year >= 2025
    copied = tmp_path / "build_info.py"
    shutil.copy(build_info.__file__, copied)
    outside = _load_build_info(copied)
    assert outside.build_info() == ("unknown", "unknown")  # type: ignore[attr-defined]


def test_get_version_says_the_date_and_commit(engine: RunningEngine) -> None:
    from docker_pass.daemon.gen.health.v1 import api_pb as health_pb

    with UpstreamWireClient(str(engine.socket)) as client:
        answer = client.call(
            "/health.v1.VersionService/GetVersion",
            health_pb.GetVersionRequest(),
            health_pb.GetVersionResponse,
        )
    assert answer.date
    assert answer.commit_hash


def test_the_host_s_defaults() -> None:
    """What the README promises: 64 plugins at once, 5 s to register (the SDK's own)."""
    settings = HostSettings()
    assert (settings.max_plugins, settings.registration_timeout) == (64, 5.0)
