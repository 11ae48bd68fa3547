"""The secret verbs on a real gnome-keyring: interop with libsecret's secret-tool and with the
real docker client running docker-pass as its `pass` plugin."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass, docker_plugin_env

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.keyring_session import PrivateBus

pytestmark = pytest.mark.integration

LOOKUP = ["secret-tool", "lookup", "service:group", "com.docker.docker-pass"]
LOOKUP += ["service:name", "docker-pass-cli", "id"]


@pytest.fixture(autouse=True)
def on_the_keyring(keyring_address: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("DOCKER_PASS_STORE", raising=False)  # auto must pick the Secret Service
    return keyring_address


def secret_tool(bus: PrivateBus, *args: str, input: bytes = b"") -> bytes:
    result = subprocess.run(
        ["secret-tool", *args], input=input, env=bus.client_env(), capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_auto_selects_the_secret_service() -> None:
    out = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    (keychain,) = [p for p in out if p["name"] == "docker-pass"]
    assert keychain["status"] == "running"
    assert keychain["storage"].startswith("Secret Service collection 'Login'")
    assert "auto: a Secret Service answers" in keychain["storage"]


def test_set_is_readable_by_secret_tool(keyring_bus: PrivateBus) -> None:
    assert docker_pass("set", "docker/auth/hub/alice=hunter2").returncode == 0
    assert secret_tool(keyring_bus, *LOOKUP[1:], "docker/auth/hub/alice") == b"hunter2"


def test_secret_tool_items_are_listed_and_read(keyring_bus: PrivateBus) -> None:
    secret_tool(
        keyring_bus,
        "store",
        "--label=made by secret-tool",
        "service:group",
        "com.docker.docker-pass",
        "service:name",
        "docker-pass-cli",
        "id",
        "from/libsecret",
        "x_env",
        "prod",
        input=b"via-secret-tool",
    )
    assert docker_pass("ls").stdout == b"from/libsecret\n"
    assert docker_pass("get", "--reveal", "from/libsecret").stdout == b"via-secret-tool"
    got = json.loads(docker_pass("get", "--json", "from/libsecret").stdout)
    assert got["metadata"] == {"env": "prod"}
    assert docker_pass("rm", "from/libsecret").stdout == b"RM: from/libsecret\n"
    lookup = subprocess.run(
        [*LOOKUP, "from/libsecret"], env=keyring_bus.client_env(), capture_output=True
    )
    assert lookup.stdout == b""


@pytest.fixture
def docker_env(tmp_path: Path, keyring_bus: PrivateBus) -> dict[str, str]:
    if shutil.which("docker") is None:
        pytest.skip("the docker client is not installed on this machine")
    env = docker_plugin_env(tmp_path)
    env["DBUS_SESSION_BUS_ADDRESS"] = keyring_bus.address
    return env


def docker(
    env: dict[str, str], *args: str, input: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["docker", *args], env=env, input=input, capture_output=True, timeout=60, check=False
    )


def test_set_ls_get_rm_through_the_docker_client(
    docker_env: dict[str, str], keyring_bus: PrivateBus
) -> None:
    assert docker(docker_env, "pass", "set", "GH_TOKEN=123456789").returncode == 0
    stdin_set = docker(docker_env, "pass", "set", "myapp/postgres/password", input=b"s3cr3t")
    assert stdin_set.returncode == 0, stdin_set.stderr
    assert docker(docker_env, "pass", "ls").stdout == b"GH_TOKEN\nmyapp/postgres/password\n"
    got = docker(docker_env, "pass", "get", "GH_TOKEN")
    assert got.stdout == b"ID: GH_TOKEN\nValue: **********\n"
    assert secret_tool(keyring_bus, *LOOKUP[1:], "myapp/postgres/password") == b"s3cr3t"
    missing = docker(docker_env, "pass", "get", "nope")
    assert missing.returncode == 1
    assert missing.stderr == b"Error: secret not found: nope\n"
    removed = docker(docker_env, "pass", "rm", "--all")
    assert removed.stdout == b"RM: GH_TOKEN\nRM: myapp/postgres/password\n"
    assert docker(docker_env, "pass", "ls").stdout == b""
