"""Where a test's secrets live, and how another program changes them behind docker-pass's back.

A :class:`Place` is one real store as the CLI reaches it (its ``--plugin``) with a writer that
is not the docker-pass process under test: a second ``docker-pass --no-daemon`` process for
the file store, libsecret's ``secret-tool`` for gnome-keyring, the ``bao`` CLI for OpenBao.
Reads for assertions go through the same outside tools (or a separate ``docker-pass`` process),
never through the process being tested.

:func:`engine_mode` starts the real engine daemon for the ``daemon`` mode (the CLI then uses
it) and nothing for ``embedded``; :class:`Mode` tells the two apart and counts the daemon's
requests, so a test can show that a command really went through it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.ids import ID
from tests.support.helpers import docker_pass
from tests.support.vault_server import scoped_token

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.daemon.engines import RunningEngine
    from tests.support.keyring_session import PrivateBus
    from tests.support.vault_server import BaoServer

#: The ``place`` parameters: every real store.
PLACES = ["file", "gnome-keyring", "vault"]
#: The ``mode`` parameters.
MODES = ["embedded", "daemon"]


class Place:
    """A store the CLI writes to with ``--plugin plugin``, with an outside writer and reader."""

    plugin = "docker-pass"
    name = "file"

    def write_outside(self, id_: str, value: str) -> None:
        """Change the secret the way another program would."""
        done = docker_pass("--no-daemon", "set", f"{id_}={value}", "--allow-duplicate")
        assert done.returncode == 0, done.stderr

    def read(self, id_: str) -> bytes | None:
        """The stored value (``None``: no such secret), read by another process."""
        got = docker_pass("--no-daemon", "get", "--reveal", id_, "--plugin", self.plugin)
        if got.returncode != 0:
            assert b"secret not found" in got.stderr, got.stderr
            return None
        return got.stdout

    def metadata(self, id_: str) -> dict[str, str]:
        """The secret's metadata as a separate ``docker-pass get --json`` reads it."""
        got = docker_pass("--no-daemon", "get", "--json", id_, "--plugin", self.plugin)
        assert got.returncode == 0, got.stderr
        found: dict[str, str] = json.loads(got.stdout)["metadata"]
        return found

    def __repr__(self) -> str:
        return self.name


class FileStore(Place):
    """The keychain plugin on the age file store; the outside writer is another docker-pass."""


class Keyring(Place):
    """The keychain plugin on gnome-keyring; the outside writer and reader is ``secret-tool``."""

    name = "gnome-keyring"

    def __init__(self, bus: PrivateBus) -> None:
        self.bus = bus

    def _tool(self, *args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["secret-tool", *args],
            input=input,
            env=self.bus.client_env(),
            capture_output=True,
            timeout=30,
            check=False,
        )

    def write_outside(self, id_: str, value: str) -> None:
        """``secret-tool store`` with the attributes Docker's own tool writes."""
        stored = self._tool(
            "store",
            f"--label=com.docker.docker-pass:docker-pass-cli:{id_}",
            "service:group",
            "com.docker.docker-pass",
            "service:name",
            "docker-pass-cli",
            "id",
            id_,
            input=value.encode(),
        )
        assert stored.returncode == 0, stored.stderr

    def read(self, id_: str) -> bytes | None:
        found = self._tool(
            "lookup", "service:group", "com.docker.docker-pass", "service:name",
            "docker-pass-cli", "id", id_,
        )  # fmt: skip
        return found.stdout if found.returncode == 0 and found.stdout else None


class Vault(Place):
    """The vault plugin on a real OpenBao under ``prefix``; the outside tool is ``bao``."""

    plugin = "vault"
    name = "vault"

    def __init__(self, server: BaoServer, prefix: str) -> None:
        self.server = server
        self.prefix = prefix

    def set_up(self, token: str, address: str | None = None) -> None:
        """``plugins vault setup`` for this server (or ``address``, a proxy of it) and prefix
        (the token on stdin)."""
        done = docker_pass(
            "plugins", "vault", "setup", "--address", address or self.server.address,
            "--prefix", self.prefix, input=f"{token}\n".encode(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def write_outside(self, id_: str, value: str) -> None:
        self.server.put(f"{self.prefix}/{id_}", value=value)

    def read(self, id_: str) -> bytes | None:
        found = self.server.bao(
            "kv", "get", "-format=json", "-mount=secret", f"{self.prefix}/{id_}", check=False
        )
        if found.returncode != 0:
            return None
        data = json.loads(found.stdout)["data"]["data"]
        return str(data["value"]).encode() if data else None

    def version(self, id_: str) -> str:
        """The KV version ``bao`` reports."""
        found = self.server.bao(
            "kv", "metadata", "get", "-format=json", "-mount=secret", f"{self.prefix}/{id_}"
        )
        return str(json.loads(found.stdout)["data"]["current_version"])


class Mode:
    """How the CLI reaches the engine: ``embedded`` (no daemon runs) or through the ``daemon``."""

    def __init__(self, name: str, engine: RunningEngine | None) -> None:
        self.name = name
        self.engine = engine

    @property
    def daemon(self) -> bool:
        return self.engine is not None

    def requests(self, method: str) -> int:
        """How many ``method`` requests the daemon served (0 when embedded)."""
        if self.engine is None:
            return 0
        with self.engine.client() as client:
            return client.info().requests.get(method, 0)

    def read_through_daemon(self, id_: str, plugin: str) -> None:
        """Have the daemon read the secret (a front that remembered versions would now hold
        this one)."""
        if self.engine is not None:
            with self.engine.client() as client:
                client.get(ID(id_), plugin=plugin)

    def __repr__(self) -> str:
        return self.name


def engine_mode(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mode]:
    """A :class:`Mode`: for ``daemon``, the real engine daemon on a short socket path, stopped
    afterwards; for ``embedded``, nothing runs.  Start it after the plugins are set up."""
    from tests.daemon.engines import start_engine

    if name == "embedded":
        yield Mode(name, None)
        return
    root = Path(tempfile.mkdtemp(prefix="dpm-", dir="/tmp"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(root / "engine.sock"))
    engine = start_engine(tmp_path / "engine.log")
    try:
        yield Mode(name, engine)
    finally:
        engine.kill()
        shutil.rmtree(root, ignore_errors=True)


def vault_place(
    server: BaoServer, monkeypatch: pytest.MonkeyPatch, *, address: str | None = None
) -> Vault:
    """The vault plugin set up on ``server`` (through ``address``, a proxy of it, when given)
    under a fresh prefix; the keychain (which keeps its token) on the file store."""
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    prefix = f"v{secrets.token_hex(4)}"
    vault = Vault(server, prefix)
    vault.set_up(scoped_token(server, prefix), address)
    return vault


@pytest.fixture
def place(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Place:
    """The store under test, by the test's ``place`` parameter (:data:`PLACES`).  A module
    that uses ``vault`` imports the ``bao_server`` fixture too."""
    name = request.param
    if name == "file":
        monkeypatch.setenv("DOCKER_PASS_STORE", "file")
        return FileStore()
    if name == "gnome-keyring":
        request.getfixturevalue("keyring_address")
        bus: PrivateBus = request.getfixturevalue("keyring_bus")
        monkeypatch.delenv("DOCKER_PASS_STORE", raising=False)  # auto: the Secret Service
        return Keyring(bus)
    return vault_place(request.getfixturevalue("bao_server"), monkeypatch)


@pytest.fixture
def mode(
    request: pytest.FixtureRequest,
    place: Place,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Mode]:
    """Embedded, or a running daemon (started once ``place`` is set up), by the test's
    ``mode`` parameter (:data:`MODES`)."""
    yield from engine_mode(request.param, tmp_path, monkeypatch)
