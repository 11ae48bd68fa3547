"""``docker pass mv`` killed half-way, between its copy and its removal: the value is in the old
place, the new one, or both — never in neither.

The move is made to stop there for real, by the stores themselves: the file store's removal
waits for its lock, which the test holds shared (reads go on, writes wait); a vault removal
waits at a proxy that holds it (:mod:`tests.support.stalling_vault`).  Then the process doing
the move is killed with SIGKILL: ``docker-pass mv`` itself, or the engine daemon doing the move
for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.config import config_path
from tests.support.helpers import EXECUTABLE, docker_pass
from tests.support.places import MODES, FileStore, Mode, Place, engine_mode, vault_place
from tests.support.stalling_vault import stalling_vault
from tests.support.vault_server import bao_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from tests.support.places import Vault
    from tests.support.stalling_vault import StallingVault
    from tests.support.vault_server import BaoServer

__all__ = ["bao_server"]

pytestmark = pytest.mark.integration

#: Seconds every step may wait (a blocked step must outlast the test's kill, not fail first).
PATIENCE = "300"


@pytest.fixture(autouse=True)
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_TIMEOUT", PATIENCE)


def vault_timeout(seconds: str) -> None:
    """The vault plugin's own per-request timeout (``plugins.vault.timeout``)."""
    path = config_path()
    config = json.loads(path.read_text())
    config["plugins"]["vault"]["timeout"] = float(seconds)
    path.write_text(json.dumps(config))


@contextmanager
def file_store_writes_held() -> Iterator[None]:
    """Hold the file store's lock shared: its readers go on, its writers wait."""
    lock = Path(os.environ["XDG_DATA_HOME"]) / "docker-pass" / "store" / ".lock"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def wait_until(test: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)  # polling another process's progress, with a deadline


def start_mv(spawn: Callable[..., subprocess.Popen[bytes]], *args: str) -> subprocess.Popen[bytes]:
    return spawn(
        [str(EXECUTABLE), "mv", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_the_mover(proc: subprocess.Popen[bytes], mode: Mode) -> None:
    """SIGKILL whoever is moving: the daemon doing it for mv (and then mv, which would go on
    on an embedded engine), or mv itself."""
    assert proc.poll() is None, "mv ended before it could be killed half-way"
    if mode.engine is not None:
        os.kill(mode.engine.pid, signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=30)


def assert_nothing_lost(
    pairs: Sequence[tuple[Place, str, Place, str]], value: Callable[[str], bytes]
) -> int:
    """Each (old place, old ID, new place, new ID) holds its value in one place or both; how
    many are in both."""
    both = 0
    for old_place, old, new_place, new in pairs:
        found = (old_place.read(old), new_place.read(new))
        assert value(old) in found, f"{old} is in neither place: {found}"
        assert all(v in (None, value(old)) for v in found)
        both += found == (value(old), value(old))
    return both


@pytest.fixture(params=MODES)
def keychain_to_vault(
    request: pytest.FixtureRequest,
    bao_server: BaoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FileStore, Vault, Mode]]:
    vault = vault_place(bao_server, monkeypatch)
    vault_timeout(PATIENCE)
    for mode in engine_mode(request.param, tmp_path, monkeypatch):
        yield FileStore(), vault, mode


@pytest.mark.parametrize("realm", [False, True], ids=["secret", "realm"])
def test_killed_with_the_file_store_removal_waiting(
    keychain_to_vault: tuple[FileStore, Vault, Mode],
    spawn: Callable[..., subprocess.Popen[bytes]],
    realm: bool,
) -> None:
    keychain, vault, mode = keychain_to_vault
    ids = ["svc/a", "svc/b", "svc/c"] if realm else ["svc/a"]
    for id_ in ids:
        assert docker_pass("set", f"{id_}=value-of-{id_}").returncode == 0
    with file_store_writes_held():
        args = ["-y", "svc/", "moved/"] if realm else ["svc/a", "moved/a"]
        proc = start_mv(spawn, *args, "--to-plugin", "vault")
        wait_until(lambda: vault.read("moved/a") == b"value-of-svc/a", "the first copy")
        kill_the_mover(proc, mode)
    pairs = [(keychain, id_, vault, id_.replace("svc/", "moved/")) for id_ in ids]
    assert assert_nothing_lost(pairs, lambda id_: f"value-of-{id_}".encode()) >= 1
    # What is left can be finished: the copies are replaced by the same values.
    again = docker_pass("mv", "--replace", "--to-plugin", "vault", *args)
    assert again.returncode == 0, again.stderr
    assert [keychain.read(i) for i in ids] == [None] * len(ids)
    assert [vault.read(i.replace("svc/", "moved/")) for i in ids] == [
        f"value-of-{i}".encode() for i in ids
    ]


@pytest.fixture(params=MODES)
def vault_to_keychain(
    request: pytest.FixtureRequest,
    bao_server: BaoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Vault, FileStore, StallingVault, Mode]]:
    for proxy in stalling_vault(bao_server.address):
        vault = vault_place(bao_server, monkeypatch, address=proxy.address)
        vault_timeout(PATIENCE)
        for mode in engine_mode(request.param, tmp_path, monkeypatch):
            yield vault, FileStore(), proxy, mode


@pytest.mark.parametrize("realm", [False, True], ids=["secret", "realm"])
def test_killed_with_the_vault_removal_stalled(
    vault_to_keychain: tuple[Vault, FileStore, StallingVault, Mode],
    spawn: Callable[..., subprocess.Popen[bytes]],
    realm: bool,
) -> None:
    vault, keychain, proxy, mode = vault_to_keychain
    ids = ["svc/a", "svc/b", "svc/c"] if realm else ["svc/a"]
    for id_ in ids:
        vault.write_outside(id_, f"value-of-{id_}")
    args = ["-y", "svc/", "moved/"] if realm else ["svc/a", "moved/a"]
    proc = start_mv(spawn, "--plugin", "vault", "--to-plugin", "docker-pass", *args)
    (held,) = proxy.wait_held(1)
    assert f"{vault.prefix}/svc/a" in held
    assert keychain.read("moved/a") == b"value-of-svc/a"  # copied before the removal
    kill_the_mover(proc, mode)
    proxy.drop()  # the held removal never reaches the vault
    pairs = [(vault, id_, keychain, id_.replace("svc/", "moved/")) for id_ in ids]
    assert assert_nothing_lost(pairs, lambda id_: f"value-of-{id_}".encode()) >= 1
