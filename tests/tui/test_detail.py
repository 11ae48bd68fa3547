"""The detail pane: masked values, reveal on request (and hiding again), copying."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.clipboard import PLACEHOLDER
from docker_pass.tui.messages import ValueFetched
from docker_pass.tui.widgets.detail_pane import MASK, DetailPane
from docker_pass.tui.widgets.status_line import StatusLine
from tests.support.tui_fakes import crashing_class, keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp

ALICE = "docker/auth/hub/alice"
ALICE_VALUE = "dckr_pat_demo-alice-not-a-real-token"


def detail_of(pilot: Pilot[None]) -> DetailPane:
    return pilot.app.screen.query_one(DetailPane)


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def screen_text(pilot: Pilot[None]) -> str:
    return pilot.app.export_screenshot().replace("&#160;", " ")


def test_detail_shows_id_provider_reference_metadata_and_a_masked_value() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        detail = detail_of(pilot)
        assert isinstance(detail.subject, SecretInfo)
        assert detail.subject.id.value == ALICE
        assert detail.subject.metadata["username"] == "alice"
        assert detail.revealed is None
        parts = (ALICE, "docker-pass", f"se://{ALICE}", MASK, "username", "docker login")
        # The pane is painted on the next refresh after its subject is set: wait for that.
        deadline = time.monotonic() + 10
        while not all(part in (text := screen_text(pilot)) for part in parts):
            assert time.monotonic() < deadline, [p for p in parts if p not in text]
            await pilot.pause(0.02)
        assert ALICE_VALUE not in text
        assert keychain.reads == 0
        assert not seen.of(ValueFetched)

    run(make_app({"docker-pass": keychain}), scenario)


def test_r_reveals_the_value_read_only_then_and_hides_it_on_moving_away() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("r")
        await settle(pilot)
        assert keychain.reads == 1
        fetched = seen.of(ValueFetched)
        assert [(m.info.id.value, m.purpose) for m in fetched] == [(ALICE, "reveal")]
        assert detail_of(pilot).revealed == ALICE_VALUE
        assert ALICE_VALUE in screen_text(pilot)
        assert "hidden again in 20 s" in status_of(pilot)
        line = pilot.app.screen.query_one(StatusLine)
        assert line.message == app_of(pilot).status.message
        assert line.has_class("-warning")
        await pilot.press("j")  # moving away hides it
        await settle(pilot)
        assert detail_of(pilot).revealed is None
        assert app_of(pilot).values.revealed_for is None
        assert ALICE_VALUE not in screen_text(pilot)

    run(make_app({"docker-pass": keychain}), scenario)


def test_r_again_hides_and_a_timeout_hides_too() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("r")
        await settle(pilot)
        assert detail_of(pilot).revealed == ALICE_VALUE
        await pilot.press("r")
        assert detail_of(pilot).revealed is None
        assert status_of(pilot) == "Value hidden."
        await pilot.press("r")
        await settle(pilot)
        assert detail_of(pilot).revealed == ALICE_VALUE
        await pilot.pause(1.3)  # the reveal timeout (1 s here) passes
        assert detail_of(pilot).revealed is None

    run(make_app(reveal_seconds=1.0), scenario)


def test_c_copies_the_value_and_clears_the_clipboard_after_the_timeout() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("c")
        await settle(pilot)
        assert [m.purpose for m in seen.of(ValueFetched)] == ["copy"]
        assert app.clipboard == ALICE_VALUE
        assert detail_of(pilot).revealed is None  # copying does not show it
        assert status_of(pilot) == (
            f"Sent the value of {ALICE} to the terminal's clipboard (OSC 52); "
            "a blank replaces it in 1 s."
        )
        await pilot.pause(1.3)
        assert app.clipboard == PLACEHOLDER
        assert status_of(pilot) == "Sent a blank over the copied value (1 s after copying)."

    run(make_app(clipboard_seconds=1.0), scenario)


def test_y_copies_the_reference_which_the_value_timeout_leaves_alone() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == f"se://{ALICE}"
        assert status_of(pilot) == f"Sent se://{ALICE} to the terminal's clipboard (OSC 52)."
        await pilot.pause(1.3)
        assert app.clipboard == f"se://{ALICE}"  # not the value: nothing to clear

    run(make_app(clipboard_seconds=1.0), scenario)


def recording_copies(app: DockerPassApp) -> list[str]:
    """Every text the app hands to the clipboard (each one an OSC 52 write), in order."""
    copies: list[str] = []
    real = app.copy_to_clipboard

    def copy(text: str) -> None:
        copies.append(text)
        real(text)

    app.copy_to_clipboard = copy  # type: ignore[method-assign]
    return copies


@pytest.mark.parametrize("quit_key", ["q", "ctrl+q"])
def test_quitting_clears_a_copied_value_first(quit_key: str) -> None:
    app = make_app()  # the default 30 s: the timer has not run when q is pressed
    copies = recording_copies(app)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("c")
        await settle(pilot)
        assert copies == [ALICE_VALUE]
        await pilot.press(quit_key)
        await settle(pilot)
        assert not app.is_running

    run(app, scenario)
    assert copies == [ALICE_VALUE, PLACEHOLDER]
    assert app.clipboard == PLACEHOLDER
    assert app.return_code == 0


def test_quitting_leaves_a_clipboard_that_no_longer_holds_the_value() -> None:
    app = make_app(clipboard_seconds=1.0)
    copies = recording_copies(app)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("c")
        await settle(pilot)
        await pilot.pause(1.3)  # the 1 s clear has run
        assert copies == [ALICE_VALUE, PLACEHOLDER]
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")  # the reference replaces the value
        await pilot.press("q")
        await settle(pilot)

    run(app, scenario)
    # Nothing more on quit.
    assert copies == [ALICE_VALUE, PLACEHOLDER, ALICE_VALUE, f"se://{ALICE}"]
    assert app.clipboard == f"se://{ALICE}"


def test_binary_values_are_shown_as_base64_and_not_copied() -> None:
    keychain = keychain_class({"bin/key": (b"\xff\x00\xfe", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, "bin/key")
        await pilot.press("r")
        await settle(pilot)
        assert detail_of(pilot).revealed == "(binary, 3 bytes, base64) /wD+"
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == ""
        assert "binary data" in status_of(pilot)

    run(make_app({"docker-pass": keychain}), scenario)


def test_keys_on_a_realm_say_what_to_do_instead() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("j", "r")  # on the realm aws/
        assert status_of(pilot) == "Put the cursor on a secret first."
        assert not seen.of(ValueFetched)

    run(make_app({"docker-pass": keychain_class(), "1password-cli": crashing_class()}), scenario)
