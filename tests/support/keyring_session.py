"""A private D-Bus session bus with a real gnome-keyring, for tests that need a Secret Service.

Nothing here touches the person's own session: the bus socket, the keyring files (``$HOME``) and
gnome-keyring's control socket (``$XDG_RUNTIME_DIR``) all live in a temporary directory, and the
daemons get a minimal environment (no ``DISPLAY``, so an unlock prompt cannot reach a screen and
completes dismissed).  Tests reach the bus through ``DBUS_SESSION_BUS_ADDRESS`` set with
``monkeypatch`` or through an explicit address, never through the real session bus.

Fixtures: ``keyring_bus`` (one keyring for the whole run, its address) and ``keyring_address``
(the same bus in ``DBUS_SESSION_BUS_ADDRESS``, with no docker-pass item before or after the test).
:func:`start_keyring_session` and :func:`start_bus` serve tests that need a bus of their own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.store import SERVICE_GROUP

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# gnome-keyring creates no login collection when unlocked with an empty password.
KEYRING_PASSWORD = "test-password"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
DAEMONS = ("dbus-daemon", "gnome-keyring-daemon", "dbus-send")
CLIENTS = ("secret-tool",)


@dataclass
class PrivateBus:
    """A running private session bus (and the daemons started on it), with its own home."""

    address: str
    root: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client_env(self) -> dict[str, str]:
        """An environment for client tools (``secret-tool``) that reaches only this bus."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return env

    def stop(self) -> None:
        """Stop the daemons, newest first, and whatever the bus started for them."""
        for process in reversed(self.processes):
            # Each daemon leads its own process group, so services the bus activated for this
            # test (a prompter) go with it, and nothing else does.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        self.processes.clear()


def missing_tools(names: tuple[str, ...] = DAEMONS + CLIENTS) -> list[str]:
    """The executables of ``names`` that are not on ``PATH``."""
    return [name for name in names if shutil.which(name) is None]


def start_bus(root: Path, *, service_files: dict[str, str] | None = None) -> PrivateBus:
    """Start ``dbus-daemon --session`` with HOME and the XDG dirs under ``root``.

    ``service_files`` (file name to content) are put in the bus's own D-Bus service directory,
    which comes before the system's, so a test can replace what the bus would activate.
    """
    home = root / "home"
    runtime = root / "run"
    home.mkdir(parents=True)
    runtime.mkdir(mode=0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    if service_files:
        services = home / ".local/share/dbus-1/services"
        services.mkdir(parents=True)
        for name, content in service_files.items():
            (services / name).write_text(content)
    process = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--print-address=1",
            f"--address=unix:path={runtime / 'bus'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    bus = PrivateBus("", root, env, [process])
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()
    if not address:
        bus.stop()
        raise RuntimeError("dbus-daemon printed no address")
    bus.address = address
    bus.env["DBUS_SESSION_BUS_ADDRESS"] = address
    return bus


def start_keyring_session(
    root: Path,
    password: str = KEYRING_PASSWORD,
    *,
    service_files: dict[str, str] | None = None,
) -> PrivateBus:
    """A private bus (see :func:`start_bus`) with gnome-keyring's secrets component running."""
    bus = start_bus(root, service_files=service_files)
    try:
        start_keyring(bus, password)
    except BaseException:
        bus.stop()
        raise
    return bus


def start_keyring(bus: PrivateBus, password: str = KEYRING_PASSWORD) -> None:
    """Start gnome-keyring on ``bus``, its login keyring unlocked (and made) with ``password``."""
    keyring = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=bus.env,
        start_new_session=True,
    )
    bus.processes.append(keyring)
    assert keyring.stdin is not None
    # --unlock reads the password from stdin up to end of file.
    keyring.stdin.write(password.encode())
    keyring.stdin.close()
    wait_for_owner(bus, "org.freedesktop.secrets")


def name_has_owner(bus: PrivateBus, name: str) -> bool:
    """Ask the bus itself (``dbus-send``, independent of the code under test)."""
    result = subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            f"string:{name}",
        ],
        env=bus.client_env(),
        capture_output=True,
        timeout=10,
        check=True,
    )
    return b"boolean true" in result.stdout


def wait_for_owner(bus: PrivateBus, name: str, timeout: float = 10.0) -> None:
    """Wait until ``name`` is owned on ``bus`` (the daemon has finished starting)."""
    deadline = time.monotonic() + timeout
    while not name_has_owner(bus, name):
        for process in bus.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not owned within {timeout:g} s")
        time.sleep(0.02)


def clear_docker_pass_items(bus: PrivateBus) -> None:
    """Delete every item carrying docker-pass's ``service:group`` (libsecret's client does it)."""
    result = subprocess.run(
        ["secret-tool", "clear", "service:group", SERVICE_GROUP],
        env=bus.client_env(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    # It exits 1 both when there was nothing to delete and on failure; only failures explain.
    if result.returncode != 0 and result.stderr:
        raise RuntimeError(f"secret-tool clear failed: {result.stderr.decode().strip()}")


def require_keyring_tools() -> None:
    """Skip the test when the daemons or clients it needs are not installed."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"needs a real Secret Service; not installed: {', '.join(missing)}")


@pytest.fixture(scope="session")
def keyring_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBus]:
    """One private bus with gnome-keyring for the whole run (stopped at the end)."""
    require_keyring_tools()
    bus = start_keyring_session(tmp_path_factory.mktemp("keyring"))
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
def keyring_address(keyring_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The shared keyring's bus address, also in ``DBUS_SESSION_BUS_ADDRESS``.

    The keyring outlives the test, so every docker-pass item is removed before and after it.
    """
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", keyring_bus.address)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    clear_docker_pass_items(keyring_bus)
    yield keyring_bus.address
    clear_docker_pass_items(keyring_bus)
