"""Snapshots of every screen and important state (pytest-textual-snapshot).

Fixed data (the demo secrets in an in-memory keychain, a crashed 1password-cli), fixed terminal
sizes, cursor blink off.  Values appear only in the one snapshot that reveals a demo value.
Update after checking the pictures: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual import events

from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.tui.conftest import make_app, settle, type_text

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp

SIZE = (100, 30)
ALICE = "docker/auth/hub/alice"


class SnapCompare(Protocol):
    def __call__(
        self,
        app: DockerPassApp,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = ...,
        run_before: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    ) -> bool: ...


def demo_app() -> DockerPassApp:
    return make_app()


async def loaded(pilot: Pilot[None]) -> None:
    await settle(pilot)


async def on_alice(pilot: Pilot[None]) -> None:
    await settle(pilot)
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_secret(ALICE)
    tree.focus()
    await settle(pilot)


def test_main_screen(snap_compare: SnapCompare) -> None:
    """You should see the realm tree (aws, docker, gh, myapp, registry:5000 with counts) under
    an inline "1password-cli: crashed" line, the crash message in the detail pane, and the
    footer keys."""
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=loaded)


def test_pattern_with_matches(snap_compare: SnapCompare) -> None:
    """You should see the pattern myapp/*/postgres/** typed, "pattern · 3 of 15 match · routed
    to docker-pass · not running: 1password-cli · by name", and the tree opened down to the
    three postgres secrets with "myapp" and "postgres" highlighted."""

    async def typed(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "myapp/*/postgres/**")

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=typed)


def test_invalid_pattern(snap_compare: SnapCompare) -> None:
    """You should see the pattern docker/a* in a field tinted red and, under it, "✗ a component
    mixes * with other characters"; the tree is unchanged."""

    async def typed(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docker/a*")

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=typed)


def test_revealed_value(snap_compare: SnapCompare) -> None:
    """You should see docker/auth/hub/alice selected with its metadata table and its (demo)
    value dckr_pat_demo-alice-not-a-real-token revealed, and the status line saying it is
    hidden again in 20 s."""

    async def revealed(pilot: Pilot[None]) -> None:
        await on_alice(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=revealed)


def test_editor(snap_compare: SnapCompare) -> None:
    """You should see the editor over the main screen for docker/auth/hub/alice: the ID
    (editable: saving under another ID moves the secret), an empty value area with the cursor
    in it ("leave empty to keep the current value", and under it "enter adds a line · a paste
    is kept whole · ctrl+t shows it"), three metadata rows (created-by, registry, username),
    and compact Load current (ctrl+r), Save and Cancel buttons; above, "Saves to docker-pass
    (encrypted file store)" and, this test plugin keeping no versions, "unversioned: saves
    replace whatever is stored"."""

    async def editing(pilot: Pilot[None]) -> None:
        await on_alice(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=editing)


#: Made up, PEM-shaped: what a person pastes for a TLS key.
PEM = (
    "-----BEGIN DEMO PRIVATE KEY-----\n"
    "MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAdemoNotARealKeyAtAll0000\n"
    "-----END DEMO PRIVATE KEY-----\n"
)


async def new_secret(pilot: Pilot[None], id_: str, value: str = "") -> None:
    """Press n, type ``id_``, and paste ``value`` (a bracketed paste) into the value area."""
    await settle(pilot)
    await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
    await type_text(pilot, id_)
    await pilot.press("tab")
    if value:
        pilot.app.post_message(events.Paste(value))
    await settle(pilot)


def test_editor_with_a_pasted_key(snap_compare: SnapCompare) -> None:
    """You should see the "New secret" editor with the ID tls/demo/key ("✓ a valid new ID")
    and a value area five rows high of • only (the pasted three-line key, its long middle line
    wrapped, then the empty line after its final line break, with the cursor), then "137
    characters on 3 lines, ending with a line break"; no character of the key itself."""

    async def pasted(pilot: Pilot[None]) -> None:
        await new_secret(pilot, "tls/demo/key", PEM)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=pasted)


def test_replace_confirmation(snap_compare: SnapCompare) -> None:
    """You should see, over the editor, a red-bordered dialog "Replace docker/auth/hub/alice?"
    saying it exists in docker-pass and that saving replaces its value and metadata, with
    "Replace (y)" and a focused "Cancel (n)"."""

    async def replacing(pilot: Pilot[None]) -> None:
        await new_secret(pilot, ALICE, "dckr_pat_demo-new-not-a-real-token")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=replacing)


def test_empty_value_confirmation(snap_compare: SnapCompare) -> None:
    """You should see, over the editor, a dialog "Empty value" asking to save flags/empty with
    an empty value because nothing was typed or pasted, with "Save empty (y)" and a focused
    "Cancel (n)"."""

    async def empty(pilot: Pilot[None]) -> None:
        await new_secret(pilot, "flags/empty")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=empty)


def test_discard_confirmation(snap_compare: SnapCompare) -> None:
    """You should see, over the editor for a new secret with the ID x/y typed, a red-bordered
    dialog "Discard changes" asking to close the editor and discard what was typed for x/y
    ("Nothing is saved."), with "Discard (y)" and a focused "Cancel (n)"."""

    async def discarding(pilot: Pilot[None]) -> None:
        await new_secret(pilot, "x/y")
        await pilot.press("escape")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=discarding)


def test_delete_confirmation(snap_compare: SnapCompare) -> None:
    """You should see a red-bordered dialog "Delete secret" asking to delete
    docker/auth/hub/alice from docker-pass, with "Delete (y)" and a focused "Cancel (n)"."""

    async def deleting(pilot: Pilot[None]) -> None:
        await on_alice(pilot)
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=deleting)


def test_plugins_panel_with_a_crashed_plugin(snap_compare: SnapCompare) -> None:
    """You should see the plugins table (docker-pass running with its file store,
    1password-cli crashed in red), the cursor on 1password-cli, and below it the crash message
    with "Fix: …", how to re-enable it and "x disables it"; the footer has Enable/disable,
    Disable and Set up."""

    async def panel(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=panel)


def test_help_screen(snap_compare: SnapCompare) -> None:
    """You should see "docker pass: keys" with two columns of sections: Secrets, Pattern field,
    Anywhere on the left; Realm tree, Editor, Plugins panel on the right; at the bottom the
    command palette hint and a compact "Close (esc)" button."""

    async def helped(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=helped)


def test_main_screen_at_80x24(snap_compare: SnapCompare) -> None:
    """You should see the whole main screen in 80x24: pattern bar, tree and detail side by
    side with docker/auth/hub/alice selected (value masked), status line and the footer keys,
    compact, all on the line (m Move among them, p Plugins the last)."""
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=on_alice)
