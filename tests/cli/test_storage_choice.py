"""Which store the docker-pass plugin uses, and what chose it: env, then config, then auto."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def storage_line() -> str:
    listed = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    (keychain,) = [p for p in listed if p["name"] == "docker-pass"]
    return str(keychain["storage"])


def write_config(home: Path, doc: dict[str, object]) -> Path:
    path = home / ".config" / "docker-pass" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_auto_without_a_secret_service_uses_the_file_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOCKER_PASS_STORE", raising=False)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    line = storage_line()
    assert line.startswith("file store ")
    assert "(auto: " in line


def test_config_setting_chooses_and_says_so(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, keyring_address: str
) -> None:
    monkeypatch.delenv("DOCKER_PASS_STORE", raising=False)
    assert storage_line().startswith("Secret Service collection")
    path = write_config(isolated_home, {"storage": "file"})
    assert storage_line().endswith(f"(config {path})")


def test_environment_wins_over_config(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(isolated_home, {"storage": "secret-service"})
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    assert storage_line().endswith("($DOCKER_PASS_STORE)")


def test_unknown_storage_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "floppy")
    result = docker_pass("ls")
    assert result.returncode == 1
    assert result.stderr == (
        b"Error: $DOCKER_PASS_STORE: unknown storage 'floppy' "
        b"(expected one of auto, secret-service, keyring, file)\n"
    )


def test_broken_config_file_is_a_clear_error(isolated_home: Path) -> None:
    path = isolated_home / ".config" / "docker-pass" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = docker_pass("plugins", "ls")
    assert result.returncode == 1
    assert result.stderr == f"Error: reading config {path}: invalid JSON at line 1\n".encode()


def test_auto_never_switches_stores_when_the_keychain_stops_answering(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.keyring_session import require_keyring_tools, start_keyring_session

    require_keyring_tools()
    # The bus may not start another keyring when this one dies: activation runs /bin/false.
    no_activation = "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/false\n"
    bus = start_keyring_session(
        tmp_path / "bus", service_files={"org.freedesktop.secrets.service": no_activation}
    )
    try:
        monkeypatch.delenv("DOCKER_PASS_STORE", raising=False)
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        assert docker_pass("set", "app/key=v1").returncode == 0
        assert storage_line().startswith("Secret Service collection")
        recorded = isolated_home / ".local/state/docker-pass/storage-choice"
        assert recorded.read_text().startswith("secret-service\n")

        keyring = bus.processes[-1]
        keyring.terminate()
        keyring.wait(timeout=10)

        result = docker_pass("set", "app/other=v2")
        assert result.returncode == 1
        assert result.stderr.startswith(b"Error: the keychain (secret-service) is unavailable: ")
        assert b"switch on purpose: DOCKER_PASS_STORE=file" in result.stderr
        for verb in (("get", "app/key"), ("ls",)):
            result = docker_pass(*verb)
            assert result.returncode == 1, verb
            assert b"is unavailable" in result.stderr
            assert b"secret not found" not in result.stderr
        # Nothing went to a file store behind the person's back.
        assert not (isolated_home / ".local/share/docker-pass/store").exists()
        assert recorded.read_text().startswith("secret-service\n")
    finally:
        bus.stop()
