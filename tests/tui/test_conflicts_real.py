"""The editor's conflicts against the real stores, embedded and through a running daemon: the
issue's two cases (the file store changed by ``docker-pass set`` in another process; vault
changed by ``bao kv put`` after ctrl+r loaded the value) end in the question, and each answer
keeps everything: Cancel keeps the typing and the other change, Reload shows the stored
value with the typing aside, Overwrite saves the typing over that change.  gnome-keyring too
(its versions are read, not listed)."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Static

from docker_pass.core.engine import Engine
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.core.setup import Answers, apply_setup, find_setup
from docker_pass.tui.screens.choice import ChoiceScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.value_area import ValueArea
from tests.support.vault_server import BaoServer, bao_server, scoped_token
from tests.tui.conftest import Recorder, app_of, run, select, settle, type_text
from tests.tui.real_stores import app_over, cli, daemon, stored

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

__all__ = ["bao_server"]

ANSWERS = ["cancel", "reload", "overwrite"]
FRONTS = [False, True]
FRONT_IDS = ["embedded", "daemon"]


def body_of(pilot: Pilot[None]) -> str:
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceScreen), screen
    return str(screen.query_one("#confirm-body", Static).render())


def editor_of(pilot: Pilot[None]) -> EditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen), screen
    return screen


async def answer(pilot: Pilot[None], how: str) -> None:
    await pilot.press({"cancel": "c", "reload": "r", "overwrite": "o"}[how])
    await settle(pilot)


@pytest.fixture(params=["file", "secret-service"])
def keychain_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The keychain's store: the file store, or gnome-keyring on a private bus."""
    if request.param == "secret-service":
        request.getfixturevalue("keyring_address")
    monkeypatch.setenv("DOCKER_PASS_STORE", request.param)
    return str(request.param)


@pytest.mark.parametrize("how", ANSWERS)
@pytest.mark.parametrize("through_daemon", FRONTS, ids=FRONT_IDS)
def test_a_keychain_secret_changed_by_another_process_asks(
    keychain_store: str,
    how: str,
    through_daemon: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Open, ``docker-pass set`` in another process, type, save: the question, nothing lost."""
    cli("set", "app/db", value=b"before")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "app/db")
        await pilot.press("e")
        await settle(pilot)
        line = str(editor_of(pilot).query_one("#editor-version", Static).render())
        assert line.startswith("version ")
        cli("set", "app/db", value=b"other")
        await type_text(pilot, "mine", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert body_of(pilot).startswith("docker-pass changed app/db since you opened it: now")
        assert stored("app/db") == "other"
        await answer(pilot, how)
        if how == "overwrite":
            assert isinstance(pilot.app.screen, MainScreen)
            assert stored("app/db") == "mine"
            return
        editor = editor_of(pilot)
        area = editor.query_one(ValueArea)
        assert stored("app/db") == "other"
        if how == "cancel":
            assert area.text == "mine"
            return
        assert area.text == "other"  # the stored value, masked
        assert editor.aside is not None
        assert editor.aside.value == "mine"  # the typing, kept aside
        await pilot.press("ctrl+b", "ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert stored("app/db") == "mine"

    if through_daemon:
        with daemon(tmp_path / "engine.log", monkeypatch):
            app = app_over(("docker-pass",), through_daemon=True)
            run(app, scenario)
            assert app.front is not None
            assert app.front.kind == "daemon"  # type: ignore[attr-defined]
    else:
        run(app_over(("docker-pass",), through_daemon=False), scenario)


VAULT_ONLY = ("docker-pass", "vault")


def set_up_vault(server: BaoServer) -> str:
    """Vault configured (scoped to a fresh prefix) with ``app/db`` holding "uival"."""
    prefix = f"t{secrets.token_hex(4)}"
    token = scoped_token(server, prefix)
    server.put(f"{prefix}/app/db", value="uival")
    setup = find_setup("vault")
    assert setup is not None
    specs = {name: BUILTIN_PLUGINS[name] for name in VAULT_ONLY}
    with Engine(specs=specs) as engine:
        answers = Answers(
            {"address": server.address, "token": token, "mount": "secret", "prefix": prefix}
        )
        apply_setup(setup, answers, keychain=engine, plugins=engine)
    return prefix


def vault_value(server: BaoServer, path: str) -> tuple[str, int]:
    answer = json.loads(server.bao("kv", "get", "-format=json", "-mount=secret", path).stdout)[
        "data"
    ]
    return answer["data"]["value"], answer["metadata"]["version"]


@pytest.mark.parametrize("how", ANSWERS)
@pytest.mark.parametrize("through_daemon", FRONTS, ids=FRONT_IDS)
def test_the_issues_vault_case_asks_and_loses_nothing(
    bao_server: BaoServer,
    how: str,
    through_daemon: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ctrl+r loads "uival", ``bao kv put … value=other-3``, type 2, ctrl+s: the question."""
    prefix = set_up_vault(bao_server)
    path = f"{prefix}/app/db"

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "app/db")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        editor = editor_of(pilot)
        area = editor.query_one(ValueArea)
        assert area.text == "uival"
        bao_server.put(path, value="other-3")
        await pilot.press("end", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert body_of(pilot).startswith("vault changed app/db since you loaded it: now version 2")
        assert vault_value(bao_server, path) == ("other-3", 2)
        await answer(pilot, how)
        if how == "overwrite":
            assert isinstance(pilot.app.screen, MainScreen)
            assert vault_value(bao_server, path) == ("uival2", 3)
            return
        assert vault_value(bao_server, path) == ("other-3", 2)
        if how == "cancel":
            assert area.text == "uival2"
            return
        assert area.text == "other-3"
        assert editor.aside is not None
        assert editor.aside.value == "uival2"
        await pilot.press("ctrl+b", "ctrl+s")
        await settle(pilot)
        assert vault_value(bao_server, path) == ("uival2", 3)

    if through_daemon:
        with daemon(tmp_path / "engine.log", monkeypatch):
            run(app_over(VAULT_ONLY, through_daemon=True), scenario, size=(110, 40))
    else:
        run(app_over(VAULT_ONLY, through_daemon=False), scenario, size=(110, 40))


def test_the_issues_duplicate_id_is_asked_about_before_vault_gets_it(
    bao_server: BaoServer,
) -> None:
    """New, plugin vault, an ID docker-pass holds: the question names docker-pass and what
    breaks; no, and vault does not get it; yes, and the tree marks it ambiguous."""
    prefix = set_up_vault(bao_server)
    cli("set", "docker/auth/hub/alice", value=b"in-docker-pass")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("n", "ctrl+u")
        editor = editor_of(pilot)
        editor.query_one("#editor-plugin").value = "vault"  # type: ignore[attr-defined]
        await settle(pilot)
        await type_text(pilot, "docker/auth/hub/alice", "#editor-id")
        hint = str(editor.query_one("#editor-id-hint", Static).render())
        assert hint.startswith("⚠ docker-pass has this ID")
        await type_text(pilot, "in-vault", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        body = str(pilot.app.screen.query_one("#confirm-body", Static).render())
        assert "se://docker/auth/hub/alice match 2 secrets (docker-pass, vault)" in body
        await pilot.press("n")
        await settle(pilot)
        missing = bao_server.bao(
            "kv", "get", "-mount=secret", f"{prefix}/docker/auth/hub/alice", check=False
        )
        assert missing.returncode != 0
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert vault_value(bao_server, f"{prefix}/docker/auth/hub/alice")[0] == "in-vault"
        assert app.listing.holders("docker/auth/hub/alice") == ["docker-pass", "vault"]

    run(app_over(VAULT_ONLY, through_daemon=False), scenario, size=(110, 40))
