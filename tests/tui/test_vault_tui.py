"""The vault plugin in the terminal UI, against a real OpenBao server: its setup form is offered
by the plugins panel (from the plugin's own ``setup_form``) and works; its secrets show in the
realm tree with their provider; an edit in the editor is what ``bao kv get`` then reads."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from textual.widgets import Input, Label

from docker_pass.core.config import load_config
from docker_pass.core.engine import Engine
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.core.state import RunStatus
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.screens.setup import SetupScreen
from docker_pass.tui.widgets.plugin_table import PluginTable
from tests.support.vault_server import BaoServer, bao_server, scoped_token
from tests.tui.conftest import Recorder, app_of, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

__all__ = ["bao_server"]

SPECS = {name: BUILTIN_PLUGINS[name] for name in ("docker-pass", "vault")}


def vault_app() -> DockerPassApp:
    app = DockerPassApp(lambda: Engine(specs=SPECS), poll_seconds=None, cursor_blink=False)
    app.animation_level = "none"
    return app


def field(pilot: Pilot[None], index: int) -> Input:
    return pilot.app.screen.query_one(f"#setup-field-{index}", Input)


def screen_text(pilot: Pilot[None]) -> str:
    return pilot.app.export_screenshot().replace("&#160;", " ")


def test_the_plugins_panel_offers_the_vault_setup_form_and_it_works(
    bao_server: BaoServer,
) -> None:
    """You should see vault in the plugins panel, its form (address, token, mount, prefix…),
    then vault running and its secrets in the tree marked ``vault``."""
    prefix = f"u{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    bao_server.put(f"{prefix}/team/api", value="tok")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        statuses = {s.name: s.status for s in app.plugins.statuses}
        assert statuses["vault"] == RunStatus.DISABLED
        await pilot.press("p")
        await settle(pilot)
        panel = pilot.app.screen
        assert isinstance(panel, PluginsScreen)
        assert "vault" in panel.setups
        await pilot.press("j")
        table = panel.query_one(PluginTable)
        assert table.current is not None
        assert table.current.name == "vault"
        await pilot.press("s")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, SetupScreen)
        labels = [str(label.render()) for label in form.query(Label)]
        assert labels[:4] == ["Address", "Token (optional)", "Mount", "Prefix (optional)"]
        assert field(pilot, 1).password  # the token is masked
        assert field(pilot, 2).value == "secret"  # the mount's default
        await type_text(pilot, bao_server.address, "#setup-field-0")
        await type_text(pilot, token, "#setup-field-1")
        await type_text(pilot, prefix, "#setup-field-3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SetupScreen)
        vault = next(s for s in app.plugins.statuses if s.name == "vault")
        assert vault.status == RunStatus.RUNNING
        assert vault.storage == f"{bao_server.address} mount secret prefix {prefix}"
        section = load_config()["plugins"]["vault"]
        assert section["address"] == bao_server.address
        assert section["prefix"] == prefix
        assert token not in json.dumps(load_config())
        assert token not in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.listing.index.find("team/api", "vault") is not None
        await select(pilot, "team/api")
        text = screen_text(pilot)
        assert "team/api" in text
        assert "vault" in text

    run(vault_app(), scenario, size=(110, 40))


def test_an_edit_in_the_editor_is_what_bao_reads(bao_server: BaoServer) -> None:
    """You should see the vault secret's editor; after saving, ``bao kv get`` reads the new
    value and the KV version has gone up."""
    prefix = f"e{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    bao_server.put(f"{prefix}/app/db", value="before")
    from docker_pass.core.setup import Answers, apply_setup, find_setup

    setup = find_setup("vault")
    assert setup is not None
    with Engine(specs=SPECS) as engine:
        answers = Answers(
            {"address": bao_server.address, "token": token, "mount": "secret", "prefix": prefix}
        )
        result = apply_setup(setup, answers, keychain=engine, plugins=engine)
    assert result.status.status == RunStatus.RUNNING

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "app/db")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EditorScreen)
        await type_text(pilot, "after", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, EditorScreen)

    run(vault_app(), scenario, size=(110, 40))
    answer = json.loads(
        bao_server.bao("kv", "get", "-format=json", "-mount=secret", f"{prefix}/app/db").stdout
    )["data"]
    assert answer["data"] == {"value": "after"}
    assert answer["metadata"]["version"] == 2


def test_the_whole_vault_form_is_reachable_in_80x24() -> None:
    """You should see the form scroll to the AppRole secret ID field when it takes the focus
    (eight fields are taller than a 24-line terminal)."""
    from docker_pass.core.setup import find_setup

    setup = find_setup("vault")
    assert setup is not None

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        pilot.app.push_screen(SetupScreen(setup, {}))
        await settle(pilot)
        assert field(pilot, 0).has_focus
        for _ in range(len(setup.fields) - 1):
            await pilot.press("enter")  # enter moves on to the next field
        last = field(pilot, len(setup.fields) - 1)
        assert last.has_focus
        assert last.password
        dialog = pilot.app.screen.query_one("#setup-dialog")
        assert dialog.region.contains_region(last.region)

    run(vault_app(), scenario, size=(80, 24))
