"""Which Docker engine the proxy forwards to, and the docker context that points at it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from docker_pass.core.docker.endpoint import (
    CONTEXT_NAME,
    DockerHost,
    context_meta_path,
    current_context,
    proxy_socket_path,
    remove_context,
    upstream_host,
    write_context,
)
from docker_pass.core.errors import UsageError


@pytest.fixture(autouse=True)
def no_docker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)


def _config_dir() -> Path:
    return Path(os.environ["DOCKER_CONFIG"])


def test_hosts_parse() -> None:
    unix = DockerHost("unix:///var/run/docker.sock", "x")
    assert (unix.scheme, unix.path) == ("unix", "/var/run/docker.sock")
    tcp = DockerHost("tcp://10.0.0.2:2376", "x", tls_dir="/certs")
    assert (tcp.scheme, tcp.host, tcp.port, tcp.tls_dir) == ("tcp", "10.0.0.2", 2376, "/certs")
    assert DockerHost("tcp://h", "x").port == 2375
    for bad, message in (
        ("ssh://me@h", "only unix:// and tcp://"),
        ("unix://relative", "absolute path"),
        ("tcp://h:port", "not a number"),
        ("npipe:////./pipe/docker_engine", "only unix:// and tcp://"),
    ):
        with pytest.raises(UsageError, match=message):
            DockerHost(bad, "x")


def test_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert upstream_host(None).url == "unix:///var/run/docker.sock"
    assert upstream_host(None).source == "default"
    write_context("remote", "tcp://build-host:2375", "a remote engine")
    (_config_dir() / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert current_context() == "remote"
    assert (upstream_host(None).url, upstream_host(None).source) == (
        "tcp://build-host:2375",
        "context remote",
    )
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1/docker.sock")
    assert upstream_host(None).source == "DOCKER_HOST"
    assert upstream_host("unix:///given.sock").url == "unix:///given.sock"


def test_our_own_socket_or_context_is_never_the_upstream(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    own = tmp_path / "docker.sock"
    write_context(CONTEXT_NAME, f"unix://{own}", "ours")
    (_config_dir() / "config.json").write_text(json.dumps({"currentContext": CONTEXT_NAME}))
    assert upstream_host(None, own_socket=own).source == "default"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{own}")
    assert upstream_host(None, own_socket=own).source == "default"
    with pytest.raises(UsageError, match="the proxy's own socket"):
        upstream_host(f"unix://{own}", own_socket=own)


def test_a_missing_current_context_is_an_error() -> None:
    (_config_dir()).mkdir(parents=True, exist_ok=True)
    (_config_dir() / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    from docker_pass.core.errors import DockerPassError

    with pytest.raises(DockerPassError, match="docker context gone does not exist"):
        upstream_host(None)


def test_context_files_are_where_the_docker_cli_looks(tmp_path: Path) -> None:
    assert not write_context(CONTEXT_NAME, "unix:///p/docker.sock", "d")
    path = context_meta_path(CONTEXT_NAME)
    assert path.parent.name == hashlib.sha256(CONTEXT_NAME.encode()).hexdigest()
    doc = json.loads(path.read_text())
    assert doc["Name"] == CONTEXT_NAME
    assert doc["Endpoints"]["docker"]["Host"] == "unix:///p/docker.sock"
    assert write_context(CONTEXT_NAME, "unix:///q/docker.sock", "d")  # an update
    assert remove_context(CONTEXT_NAME)
    assert not path.exists()
    assert not remove_context(CONTEXT_NAME)
    assert proxy_socket_path(tmp_path / "engine.sock") == tmp_path / "docker.sock"
