"""Vault's deleted secrets and moves in the UI, against a real OpenBao, embedded and through a
running daemon: d deletes (the secret leaves the live tree for the "deleted" line, not
counted), U undeletes it, X purges every version after its own question, u after d restores;
m moves a secret from the keychain to vault and a realm within vault."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, Select

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.move import MoveScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import DeletedGroup
from tests.support.vault_server import BaoServer, bao_server
from tests.tui.conftest import Recorder, app_of, run, select, settle
from tests.tui.real_stores import app_over, cli, daemon, stored
from tests.tui.test_conflicts_real import VAULT_ONLY, set_up_vault

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

__all__ = ["bao_server"]


def metadata_of(server: BaoServer, path: str) -> dict[str, object]:
    done = server.bao("kv", "metadata", "get", "-format=json", "-mount=secret", path, check=False)
    if done.returncode != 0:
        return {}
    data: dict[str, object] = json.loads(done.stdout)["data"]
    return data


def latest_deleted(server: BaoServer, path: str) -> bool:
    meta = metadata_of(server, path)
    versions = meta["versions"]
    assert isinstance(versions, dict)
    return bool(versions[str(meta["current_version"])]["deletion_time"])


async def on_deleted_line(pilot: Pilot[None], id_: str) -> None:
    tree = pilot.app.screen.query_one(RealmTree)
    group = next(c for c in tree.root.children if isinstance(c.data, DeletedGroup))
    tree.move_cursor(group)
    tree.focus()
    await pilot.press("l")
    await settle(pilot)
    node = next(c for c in group.children if str(c.label).startswith(id_))
    tree.move_cursor(node)
    await settle(pilot)


def run_over(
    through_daemon: bool, scenario: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if through_daemon:
        with daemon(tmp_path / "engine.log", monkeypatch):
            run(app_over(VAULT_ONLY, through_daemon=True), scenario, size=(110, 40))  # type: ignore[arg-type]
    else:
        run(app_over(VAULT_ONLY, through_daemon=False), scenario, size=(110, 40))  # type: ignore[arg-type]


@pytest.mark.parametrize("through_daemon", [False, True], ids=["embedded", "daemon"])
def test_delete_undelete_and_purge(
    bao_server: BaoServer, through_daemon: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = set_up_vault(bao_server)
    path = f"{prefix}/app/db"

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, "app/db")
        await pilot.press("d", "y")
        await settle(pilot)
        assert latest_deleted(bao_server, path)
        assert app.listing.index.find("app/db", "vault") is None
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert [d.id.value for d in app.listing.deleted_entries] == ["app/db"]
        await on_deleted_line(pilot, "app/db")
        await pilot.press("U")
        await settle(pilot)
        assert not latest_deleted(bao_server, path)
        assert app.listing.index.find("app/db", "vault") is not None
        await select(pilot, "app/db")
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert metadata_of(bao_server, path) == {}  # every version gone
        assert app.listing.index.find("app/db", "vault") is None
        assert app.listing.deleted_entries == ()

    run_over(through_daemon, scenario, tmp_path, monkeypatch)


@pytest.mark.parametrize("through_daemon", [False, True], ids=["embedded", "daemon"])
def test_u_after_d_restores_a_vault_secret(
    bao_server: BaoServer, through_daemon: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = set_up_vault(bao_server)
    path = f"{prefix}/app/db"

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "app/db")
        await pilot.press("d", "y")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert stored("app/db", "vault") == "uival"
        assert not latest_deleted(bao_server, path)

    run_over(through_daemon, scenario, tmp_path, monkeypatch)


@pytest.mark.parametrize("through_daemon", [False, True], ids=["embedded", "daemon"])
def test_m_moves_a_keychain_secret_to_vault_and_a_vault_realm(
    bao_server: BaoServer, through_daemon: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = set_up_vault(bao_server)
    bao_server.put(f"{prefix}/app/api", value="api-key")
    cli("set", "team/token", value=b"tok")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "team/token")
        await pilot.press("m")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, MoveScreen)
        screen.query_one("#move-plugin", Select).value = "vault"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert stored("team/token", "vault") == "tok"
        gone = bao_server.bao("kv", "get", "-mount=secret", f"{prefix}/team/token", check=False)
        assert gone.returncode == 0
        assert "team/token" not in cli("ls")
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("app")
        tree.focus()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        move = pilot.app.screen
        assert isinstance(move, MoveScreen)
        move.query_one("#move-plugin", Select).value = "vault"
        move.query_one("#move-new", Input).value = "service"
        await settle(pilot)
        await pilot.press("ctrl+s", "y")
        await settle(pilot)
        assert stored("service/db", "vault") == "uival"
        assert stored("service/api", "vault") == "api-key"
        for old in ("app/db", "app/api"):
            meta = metadata_of(bao_server, f"{prefix}/{old}")
            assert not meta or latest_deleted(bao_server, f"{prefix}/{old}")
        assert app_of(pilot).listing.index.find("app/db", "vault") is None

    run_over(through_daemon, scenario, tmp_path, monkeypatch)
