"""Shared fixtures: every test runs with HOME and the XDG dirs in a temporary folder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, the XDG dirs and DOCKER_CONFIG at a temp dir; no test touches the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    # The abstract namespace is shared by every process here: each test's engine gets its own
    # name (tests of the default name set it themselves).
    monkeypatch.setenv(
        "DOCKER_PASS_ENGINE_ABSTRACT_SOCKET", f"@docker-pass-test/{os.getpid()}/{tmp_path.name}"
    )
    # The Secret Service writer lock lives in $XDG_RUNTIME_DIR when set; keep it in the temp dir.
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("DOCKER_PASS_DEBUG", raising=False)
    monkeypatch.delenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND", raising=False)
    return home


# The private D-Bus + gnome-keyring fixtures (keyring_bus, keyring_address) for every test.
from tests.support.keyring_session import keyring_address, keyring_bus  # noqa: E402
from tests.support.memory_plugin import memory_plugin  # noqa: E402
from tests.support.processes import spawn  # noqa: E402

__all__ = ["isolated_home", "keyring_address", "keyring_bus", "memory_plugin", "spawn"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``serial`` the tests that drive the real UI in tmux (:mod:`tests.tui.tmux_driver`).

    They read the screen against a deadline, as a person would see it; under the load of a
    second worker a frame can be caught half drawn.  ``scripts/test`` runs the rest of the suite
    on two workers (pytest-xdist) and these afterwards, one at a time.
    """
    serial = pytest.mark.serial
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and _drives_tmux(module):
            item.add_marker(serial)


def _drives_tmux(module: object) -> bool:
    names = vars(module).values()
    return any(getattr(value, "__module__", None) == "tests.tui.tmux_driver" for value in names)
