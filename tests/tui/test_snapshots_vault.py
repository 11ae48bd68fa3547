"""A snapshot of the vault plugin's setup form, from its own ``setup_form`` (the real plugin
class, disabled, so nothing is started).  Fixed data, fixed size, cursor blink off; the token
typed is masked.  Update after checking the picture:
``pytest tests/tui/test_snapshots_vault.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.backends.vault.plugin import VaultPlugin
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import make_app, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.test_snapshots import SnapCompare


def test_vault_setup_form(snap_compare: SnapCompare) -> None:
    """You should see the vault setup dialog over the plugins panel, scrolled (a scrollbar on
    its right) to the focused Prefix field holding "team": above it the token's help line and
    Mount "secret", below it Namespace and CA certificate file, empty and optional.  (Address
    and the masked Token are filled in above, scrolled out of view.)"""

    async def filled(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j", "s")
        await settle(pilot)
        await type_text(pilot, "https://vault.example.com:8200", "#setup-field-0")
        await type_text(pilot, "hvs.not-a-real-token", "#setup-field-1")
        await type_text(pilot, "team", "#setup-field-3")

    app = make_app({"docker-pass": keychain_class(), "vault": VaultPlugin})
    assert snap_compare(app, terminal_size=(100, 30), run_before=filled)
