"""The daemon as a drop-in for Docker's secrets engine: what its Go client needs, on its wire.

Every test here talks through :class:`UpstreamWireClient` (binary protobuf over Connect on the
abstract socket, versions parsed as ``api.NewVersion`` parses them), as
``github.com/docker/secrets-engine/client`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb
from tests.daemon.engines import start_engine
from tests.daemon.upstream_wire import (
    ConnectError,
    UpstreamWireClient,
    default_address,
    go_semver_is_valid,
)
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.daemon.engines import RunningEngine


@pytest.fixture
def address() -> str:
    """This test's abstract socket name (tests/conftest.py gives each test its own)."""
    return os.environ["DOCKER_PASS_ENGINE_ABSTRACT_SOCKET"]


@pytest.fixture
def upstream(engine: RunningEngine, address: str) -> Iterator[UpstreamWireClient]:
    with UpstreamWireClient(address) as client:
        yield client


def test_go_semver_rule_as_upstream_applies_it() -> None:
    # The rule the client applies (golang.org/x/mod/semver.IsValid), checked on its own cases.
    for good in ("v1", "v1.2", "v1.2.3", "v1.2.3-pre.1", "v1.2.3+meta", "v0.1.0-rc.1+b.2"):
        assert go_semver_is_valid(good), good
    for bad in ("0.1.0", "1.2.3", "v1.2.3-01", "v01.2.3", "v1.2-pre", "v1.2.3+", "", "v"):
        assert not go_semver_is_valid(bad), bad


def test_list_plugins_keeps_every_plugin_for_upstreams_client(
    upstream: UpstreamWireClient,
) -> None:
    plugins = upstream.list_plugins()
    ours = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    # None dropped: every version is a v-prefixed semantic version on the wire.
    assert sorted(p["name"] for p in plugins) == sorted(p["name"] for p in ours)
    by_name = {p["name"]: p for p in plugins}
    assert by_name["docker-pass"]["version"].startswith("v")
    assert by_name["snapshot"]["version"] == "v1.0.0"  # the plugin says 1.0.0
    assert by_name["docker-pass"]["pattern"] == "**"
    # Our own fronts still show the plugin's own version.
    assert {p["name"]: p["version"] for p in ours}["snapshot"] == "1.0.0"


def test_authorize_allows_the_engines_own_user(upstream: UpstreamWireClient) -> None:
    before = datetime.now(UTC)
    answer = upstream.authorize("app/**", "shared/x")
    assert answer.decision == resolver_pb.Decision.ALLOW
    assert answer.expires_at is not None
    expires = answer.expires_at.to_datetime()
    assert before + timedelta(seconds=60) < expires < before + timedelta(hours=1)


@pytest.mark.parametrize(
    ("patterns", "words"),
    [
        ((), "at least one pattern"),
        (("app/**", "app//x"), "app//x"),
        (("bad pattern",), "bad pattern"),
    ],
)
def test_authorize_validates_patterns(
    upstream: UpstreamWireClient, patterns: tuple[str, ...], words: str
) -> None:
    with pytest.raises(ConnectError) as caught:
        upstream.authorize(*patterns)
    assert caught.value.code == "invalid_argument"
    assert words in caught.value.message


def test_resolving_over_the_abstract_socket(upstream: UpstreamWireClient) -> None:
    assert upstream.version().startswith("v")
    answer = upstream.get_secrets("app/db")
    (envelope,) = answer.envelopes
    assert (envelope.id, envelope.value) == ("app/db", b"db-secret-1")
    assert envelope.provider == "snapshot"
    with pytest.raises(ConnectError) as caught:
        upstream.get_secrets("nothing/here")
    assert caught.value.code == "not_found"
    # One keep-alive connection served all three calls, as Go's transport keeps one.
    assert [path.rpartition("/")[2] for path, _ in upstream.sent] == [
        "GetVersion",
        "GetSecrets",
        "GetSecrets",
    ]


def test_envelopes_carry_the_version_and_creation_time(upstream: UpstreamWireClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)

    def version() -> str:
        return docker_pass("get", "--version", "team/versioned").stdout.decode().strip()

    assert docker_pass("set", "team/versioned=one").returncode == 0
    first = version()
    assert docker_pass("set", "team/versioned=two").returncode == 0
    (env,) = upstream.get_secrets("team/versioned").envelopes
    assert (env.value, env.provider, env.version) == (b"two", "docker-pass", version())
    # The file store's version: the second save's count and a digest of its record (a secret
    # removed and made again never gets an old version back).
    assert env.version.startswith("2-")
    assert env.version != first
    assert env.created_at is not None
    assert before <= env.created_at.to_datetime() <= datetime.now(UTC) + timedelta(seconds=5)
    assert env.resolved_at is not None


def test_status_names_the_abstract_socket(engine: RunningEngine, address: str) -> None:
    doc = json.loads(docker_pass("engine", "status", "--json").stdout)
    assert doc["abstract_socket"] == address
    shown = docker_pass("engine", "status").stdout.decode()
    assert f"abstract socket: {address}\n" in shown  # not the default name: no remark


def test_the_default_address_is_upstreams(
    tmp_path: Path, socket_path: Path, snapshot_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET")
    running = start_engine(tmp_path / "engine.log")
    try:
        if f"and {default_address()}" not in running.log():
            pytest.skip(f"{default_address()} is taken by another process on this machine")
        shown = docker_pass("engine", "status").stdout.decode()
        assert f"abstract socket: {default_address()} (where Docker's clients look" in shown
        with UpstreamWireClient() as client:  # no address: the upstream default
            assert client.authorize("**").decision == resolver_pb.Decision.ALLOW
            assert "snapshot" in {p["name"] for p in client.list_plugins()}
    finally:
        running.kill()


def test_the_abstract_socket_can_be_turned_off(
    tmp_path: Path, socket_path: Path, snapshot_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET", "off")
    running = start_engine(tmp_path / "engine.log")
    try:
        doc = json.loads(docker_pass("engine", "status", "--json").stdout)
        assert doc["running"] is True
        assert doc["abstract_socket"] is None
    finally:
        running.kill()


def test_a_taken_abstract_name_is_said_and_the_path_socket_still_serves(
    tmp_path: Path, socket_path: Path, snapshot_data: Path, address: str
) -> None:
    import socket

    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind("\0" + address.removeprefix("@"))
    squatter.listen(1)
    try:
        running = start_engine(tmp_path / "engine.log")
        try:
            assert f"another process already listens on {address}" in running.log()
            doc = json.loads(docker_pass("engine", "status", "--json").stdout)
            assert doc["running"] is True
            assert doc["abstract_socket"] is None
        finally:
            running.kill()
    finally:
        squatter.close()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_abstract_socket_refuses_another_user(engine: RunningEngine, address: str) -> None:
    # No file mode guards an abstract socket: the peer check alone turns nobody away.
    curl = [
        "curl",
        "-sS",
        "--max-time",
        "10",
        "--abstract-unix-socket",
        address.removeprefix("@"),
        "-H",
        "Content-Type: application/json",
        "-d",
        "{}",
        "http://unix/health.v1.VersionService/GetVersion",
    ]
    nobody = subprocess.run(
        curl, user=65534, group=65534, extra_groups=[], capture_output=True, check=False
    )
    assert nobody.returncode != 0
    assert b"version" not in nobody.stdout
    deadline = time.monotonic() + 10
    while "(uid 65534)" not in engine.log():
        assert time.monotonic() < deadline, engine.log()
        time.sleep(0.05)
    assert b'"version"' in subprocess.run(curl, capture_output=True, check=True).stdout


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run the engine as another user")
def test_authorize_denies_a_caller_that_is_not_the_engines_user(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    # The engine runs as nobody; root may connect (the peer check lets root in) but is not
    # the user whose secrets these are: Authorize says DENY.
    import tempfile
    from pathlib import Path

    from tests.support.other_user import OTHER_UID, SETPRIV

    root = Path(tempfile.mkdtemp(prefix="dpe-nobody-", dir="/tmp"))
    try:
        for sub in ("home", "home/.config", "home/.local/share", "home/.local/state", "cache"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for path in (root, *root.rglob("*")):
            os.chown(path, OTHER_UID, OTHER_UID)
        root.chmod(0o755)
        home = root / "home"
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
        monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
        monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(root / "cache" / "engine.sock"))
        log = root / "engine.log"
        log.touch()
        os.chown(log, OTHER_UID, OTHER_UID)
        from tests.support.helpers import EXECUTABLE
        from tests.support.processes import reap

        with log.open("ab") as handle:
            proc = subprocess.Popen(
                [*SETPRIV, str(EXECUTABLE), "--debug", "engine", "run"],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                env=dict(os.environ),
                start_new_session=True,  # reaped whole below
            )
        try:
            # Our own client refuses another user's engine; this one asks over the abstract
            # socket until it answers.
            deadline = time.monotonic() + 30
            while f"and {address}" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            with UpstreamWireClient(address) as client:
                answer = client.authorize("**")
            assert answer.decision == resolver_pb.Decision.DENY
            assert answer.expires_at is not None
        finally:
            reap(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)
