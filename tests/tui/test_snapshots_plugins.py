"""Snapshots of plugins from the UI: the setup form, both actions on a crashed plugin, and a
keymap warning.  Fixed data (tests/support/tui_fakes.py), fixed sizes, cursor blink off; the
token typed is masked and never shown.  Update after checking the pictures:
``pytest tests/tui/test_snapshots_plugins.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support.tui_fakes import crashing_class, keychain_class, readonly_class
from tests.tui.conftest import make_app, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp
    from tests.tui.test_snapshots import SnapCompare

SIZE = (100, 30)


def with_sdk(**options: Any) -> DockerPassApp:
    return make_app(
        {
            "docker-pass": keychain_class(),
            "1password-cli": crashing_class(),
            "1password-sdk": readonly_class(enabled=False),
        },
        **options,
    )


def test_setup_form_with_a_refused_token(snap_compare: SnapCompare) -> None:
    """You should see the dialog "Set up 1password-sdk" over the plugins panel: its intro, the
    "Service account token" field masked (dots, not the text typed) with a red border, and under
    it in red "the field holds more than one word: give exactly one service account token";
    Save (ctrl+s) and Cancel (esc) buttons."""

    async def refused(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j", "j", "s")
        await settle(pilot)
        await type_text(pilot, "ops_one ops_two")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(with_sdk(), terminal_size=SIZE, run_before=refused)


def test_panel_on_a_crashed_plugin_shows_both_actions(snap_compare: SnapCompare) -> None:
    """You should see the plugins panel with the cursor on 1password-cli (crashed, in red), the
    detail ending "…press space / enter here to re-enable it (or run docker pass plugins enable
    1password-cli); x disables it.", and the footer keys Enable/disable, Disable, Set up."""

    async def panel(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(with_sdk(), terminal_size=SIZE, run_before=panel)


def test_crashed_plugin_offers_re_enable_and_disable(snap_compare: SnapCompare) -> None:
    """You should see the dialog "1password-cli is crashed" with the crash message in red,
    "Re-enable it now? …" ending "(To disable it instead: x in the panel.)", and the buttons
    Re-enable (y) and Cancel (n); behind it the plugins panel."""

    async def asked(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)

    assert snap_compare(with_sdk(), terminal_size=SIZE, run_before=asked)


def test_keymap_warning_names_the_ignored_entries(snap_compare: SnapCompare) -> None:
    """You should see the plugins panel opened with the remapped key P, its intro saying "D
    disables it", the detail of 1password-cli ending "D disables it.", and a "Keymap"
    notification: "tui.keymap: ignored 2 entries: 'main.revael': no binding has this id;
    app.quit: 'bogus' is not a key name Textual knows"."""
    keymap = {"main.revael": "v", "app.quit": "bogus", "app.plugins": "P", "plugins.disable": "D"}

    async def remapped(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    app = with_sdk(keymap=keymap)
    assert snap_compare(app, terminal_size=SIZE, run_before=remapped)
