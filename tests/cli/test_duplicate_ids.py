"""One ID, one answer: ``set`` (and ``mv``) into an ID that another running plugin holds warns,
asks on a terminal, and refuses without one unless ``--allow-duplicate`` — through the real
executable, embedded and through the daemon, never silently."""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass
from tests.support.places import MODES, FileStore, Mode, engine_mode, vault_place
from tests.support.terminals import JoinedTerminal, terminal
from tests.support.vault_server import bao_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.support.vault_server import BaoServer

__all__ = ["bao_server", "terminal"]

pytestmark = pytest.mark.integration

WARNING = (
    "Warning: memory already holds shared/key: saving it to docker-pass too makes "
    "se://shared/key match 2 secrets (docker-pass, memory), so every reference to it fails"
)


@pytest.fixture
def held(memory_plugin: Path, monkeypatch: pytest.MonkeyPatch) -> FileStore:
    """``shared/key`` held by the third-party ``memory`` plugin; the keychain on the file store."""
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    memory_plugin.write_text(json.dumps({"shared/key": "from-memory"}))
    return FileStore()


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest, held: FileStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Mode]:
    yield from engine_mode(request.param, tmp_path, monkeypatch)


def test_set_warns_and_refuses_without_a_terminal(held: FileStore, mode: Mode) -> None:
    refused = docker_pass("set", "shared/key=mine")
    assert refused.returncode == 1
    lines = refused.stderr.decode().splitlines()
    assert lines[0] == WARNING
    assert lines[-1] == (
        "Error: refusing to save shared/key to docker-pass while another plugin holds it "
        "(nothing saved); --allow-duplicate does it anyway"
    )
    assert held.read("shared/key") is None
    piped = docker_pass("set", "shared/key", input=b"mine")  # the value on stdin: no terminal
    assert piped.returncode == 1
    assert held.read("shared/key") is None


def test_allow_duplicate_saves_with_the_warning_and_references_then_fail(
    held: FileStore, mode: Mode
) -> None:
    saved = docker_pass("set", "--allow-duplicate", "shared/key=mine")
    assert saved.returncode == 0
    assert saved.stderr.decode().splitlines() == [WARNING]
    assert held.read("shared/key") == b"mine"
    ran = docker_pass("run", "--", "true", env={"K": "se://shared/key"})
    assert ran.returncode == 1
    assert b"2 secrets matched" in ran.stderr
    # Writing it again where it is held already is no new duplicate... but memory still has it.
    again = docker_pass("set", "shared/key=mine-2")
    assert again.returncode == 1
    assert again.stderr.decode().splitlines()[0] == WARNING


def test_an_id_nobody_else_holds_saves_quietly(held: FileStore, mode: Mode) -> None:
    done = docker_pass("set", "shared/other=mine")
    assert (done.returncode, done.stderr) == (0, b"")
    again = docker_pass("set", "shared/other=mine-2")  # held by docker-pass itself: no warning
    assert (again.returncode, again.stderr) == (0, b"")


def test_mv_into_an_id_another_plugin_holds_is_refused_the_same_way(
    held: FileStore, mode: Mode
) -> None:
    assert docker_pass("set", "mine/key=v").returncode == 0
    refused = docker_pass("mv", "mine/key", "shared/key")
    assert refused.returncode == 1
    err = refused.stderr.decode()
    assert err.splitlines()[0] == WARNING
    assert "refusing to move shared/key to docker-pass" in err
    assert (held.read("mine/key"), held.read("shared/key")) == (b"v", None)
    moved = docker_pass("mv", "--allow-duplicate", "mine/key", "shared/key")
    assert moved.returncode == 0, moved.stderr
    assert (held.read("mine/key"), held.read("shared/key")) == (None, b"v")


def test_on_a_terminal_set_asks_save_anyway(
    held: FileStore, terminal: Callable[[str], JoinedTerminal]
) -> None:
    no = terminal("set shared/key=mine")
    screen = no.wait_for(lambda s: "Save anyway? [y/N]" in s)
    assert WARNING in screen
    no.send("n", "Enter")
    screen = no.wait_for(lambda s: "exit=" in s)
    assert "exit=1" in screen
    assert "nothing saved" in screen
    assert held.read("shared/key") is None
    yes = terminal("set shared/key=mine")
    yes.wait_for(lambda s: "Save anyway? [y/N]" in s)
    yes.send("y", "Enter")
    assert "exit=0" in yes.wait_for(lambda s: "exit=" in s)
    assert held.read("shared/key") == b"mine"


def test_a_prompted_value_is_asked_after_the_question(
    held: FileStore, terminal: Callable[[str], JoinedTerminal]
) -> None:
    term = terminal("set shared/key")
    term.wait_for(lambda s: "Save anyway? [y/N]" in s)
    assert "Secret value:" not in term.screen()
    term.send("y", "Enter")
    term.wait_for(lambda s: "Secret value:" in s)
    term.send("typed-7", "Enter")
    term.wait_for(lambda s: "Repeat the value:" in s)
    term.send("typed-7", "Enter")
    assert "exit=0" in term.wait_for(lambda s: "exit=" in s)
    deadline = time.monotonic() + 15
    while held.read("shared/key") != b"typed-7":
        assert time.monotonic() < deadline, "the prompted value was not stored"
        time.sleep(0.1)  # the tmux pane may still be flushing: waiting for a condition


@pytest.mark.parametrize("vault_mode", MODES)
def test_the_issue_case_vault_creating_an_id_the_keychain_holds(
    bao_server: BaoServer,
    vault_mode: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = vault_place(bao_server, monkeypatch)
    assert docker_pass("set", "docker/auth/hub/alice=from-keychain").returncode == 0
    for mode in engine_mode(vault_mode, tmp_path, monkeypatch):
        refused = docker_pass("set", "--plugin", "vault", "docker/auth/hub/alice=from-vault")
        assert refused.returncode == 1
        assert refused.stderr.decode().splitlines()[0] == (
            "Warning: docker-pass already holds docker/auth/hub/alice: saving it to vault too "
            "makes se://docker/auth/hub/alice match 2 secrets (docker-pass, vault), so every "
            "reference to it fails"
        )
        assert vault.read("docker/auth/hub/alice") is None
        other = f"docker/auth/hub/{secrets.token_hex(3)}"
        fresh = docker_pass("set", "--plugin", "vault", f"{other}=from-vault")
        assert (fresh.returncode, fresh.stderr) == (0, b"")
        assert mode.requests("/dockerpass.v1.SecretsService/SaveSecret") == int(mode.daemon)
