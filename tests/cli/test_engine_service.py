"""`docker pass engine install-service`: the systemd user unit, written, checked and removed."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from pathlib import Path


def unit_file(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / "docker-pass-engine.service"


def test_install_writes_a_notify_unit_that_restarts_on_failure(isolated_home: Path) -> None:
    result = docker_pass("engine", "install-service")
    assert result.returncode == 0, result.stderr
    path = unit_file(isolated_home)
    out = result.stdout.decode()
    assert f"Wrote {path}" in out
    assert "systemctl --user enable --now docker-pass-engine.service" in out
    text = path.read_text()
    lines = set(text.splitlines())
    assert "Type=notify" in lines
    assert "Restart=on-failure" in lines
    assert "LimitCORE=0" in lines
    assert "WantedBy=default.target" in lines
    # The very script that was run, by absolute path (a user unit has no login PATH).
    assert f"ExecStart={EXECUTABLE} engine run" in lines
    assert path.stat().st_mode & 0o022 == 0  # nobody else may change what it runs
    # Again: nothing changes, and it says so.
    again = docker_pass("engine", "install-service")
    assert f"{path} is up to date." in again.stdout.decode()
    assert path.read_text() == text


def test_print_shows_the_unit_without_writing_it(isolated_home: Path) -> None:
    result = docker_pass("engine", "install-service", "--print")
    assert result.returncode == 0
    assert "Type=notify" in result.stdout.decode()
    assert not unit_file(isolated_home).exists()


def test_a_changed_unit_is_replaced(isolated_home: Path) -> None:
    path = unit_file(isolated_home)
    path.parent.mkdir(parents=True)
    path.write_text("[Service]\nExecStart=/old/docker-pass engine run\n")
    result = docker_pass("engine", "install-service")
    assert f"Replaced {path}" in result.stdout.decode()
    assert "Type=notify" in path.read_text()


def test_uninstall_removes_it_and_says_how_to_disable(isolated_home: Path) -> None:
    assert docker_pass("engine", "install-service").returncode == 0
    result = docker_pass("engine", "install-service", "--uninstall")
    assert result.returncode == 0
    assert not unit_file(isolated_home).exists()
    assert "systemctl --user disable --now docker-pass-engine.service" in result.stdout.decode()
    again = docker_pass("engine", "install-service", "--uninstall")
    assert again.returncode == 0
    assert "No service is installed" in again.stdout.decode()


def test_print_and_uninstall_do_not_go_together() -> None:
    result = docker_pass("engine", "install-service", "--uninstall", "--print")
    assert result.returncode == 1
    assert "--print and --uninstall do not go together" in result.stderr.decode()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    text = docker_pass("engine", "install-service", "--print").stdout.decode()
    good = tmp_path / "docker-pass-engine.service"
    good.write_text(text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(good)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
    # The same check does see a broken unit: it is not a tool that accepts anything.
    bad = tmp_path / "broken.service"
    bad.write_text(text.replace("Type=notify", "Type=nonsense"))
    complaint = subprocess.run(
        ["systemd-analyze", "verify", str(bad)], capture_output=True, text=True, check=False
    )
    assert "Failed to parse service type" in complaint.stderr
