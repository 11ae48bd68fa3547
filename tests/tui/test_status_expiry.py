"""Status messages end: after ``status_seconds``, or with what they describe; counts read
"1 secret"; the header says which engine the UI talks to, with an icon fonts have."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.widgets import Header, Static

from docker_pass.core.engine import Engine
from docker_pass.core.remote.front import DAEMON_KIND, EMBEDDED_KIND, DaemonOrEmbedded, front_kind
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.messages import ListingStarted
from docker_pass.tui.text import HEADER_ICON, plural
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.status_line import StatusLine
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import ID

ALICE = "docker/auth/hub/alice"


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Poll ``condition`` between short pauses (at most ~10 s), failing if it never holds."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the condition never held")


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def drawn_status(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one(StatusLine).render())


def test_a_status_message_clears_itself_after_status_seconds() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        # "15 secrets. ? shows every key." came first, and goes.
        await wait_until(pilot, lambda: status_of(pilot) == "")
        assert drawn_status(pilot) == ""
        app.status.set_status("Something happened.", "warning")
        await pilot.pause()
        assert drawn_status(pilot) == "Something happened."
        await wait_until(pilot, lambda: drawn_status(pilot) == "")

    run(make_app(status_seconds=1.0), scenario)


def test_the_default_expiry_keeps_messages_through_a_test() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.status.seconds == 20.0
        await select(pilot, ALICE)
        await pilot.press("y")
        await settle(pilot)
        assert status_of(pilot) == (
            "Sent se://docker/auth/hub/alice to the terminal's clipboard (OSC 52)."
        )

    run(make_app(), scenario)


def test_showing_a_value_clears_when_the_value_is_hidden_again() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("r")
        await settle(pilot)
        # "Reading the value…" was replaced by the result.
        assert status_of(pilot).startswith(f"Showing {ALICE}: hidden again in 2 s")
        await wait_until(pilot, lambda: app.values.revealed_for is None)
        assert status_of(pilot) == ""

    # The status would stay a minute: it ends because the value was hidden.  Shown for 2 s:
    # long enough that a loaded machine still reads the message before it goes.
    run(make_app(reveal_seconds=2.0, status_seconds=60), scenario)


def test_moving_away_from_a_shown_value_clears_its_message() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("r")
        await settle(pilot)
        assert status_of(pilot).startswith("Showing ")
        await pilot.press("j")
        await settle(pilot)
        assert app_of(pilot).values.revealed_for is None
        assert status_of(pilot) == ""

    run(make_app(), scenario)


def test_reading_a_value_clears_when_the_cursor_moves_before_it_arrives() -> None:
    gate = threading.Event()
    base = keychain_class()

    class SlowRead(base):  # type: ignore[misc, valid-type]
        def get(self, id_: ID) -> Envelope:
            gate.wait(5)
            return super().get(id_)  # type: ignore[no-any-return]

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("r")
        assert status_of(pilot) == f"Reading the value of {ALICE}…"
        await pilot.press("j")
        assert status_of(pilot) == ""
        gate.set()
        await settle(pilot)
        assert app.values.revealed_for is None  # the value came for a line the cursor left
        assert status_of(pilot) == ""

    run(make_app({"docker-pass": SlowRead}), scenario)


def test_reloading_clears_when_the_listing_is_back() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app_of(pilot).action_reload()  # what ctrl+r does (a key press would wait it out)
        assert status_of(pilot) == "Reloading…"
        await settle(pilot)
        assert status_of(pilot) == ""
        assert len(seen.of(ListingStarted)) == 2  # the first listing, and the reload's

    run(make_app(), scenario)


def test_a_message_about_something_else_is_not_cleared_by_its_end() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("r")
        await settle(pilot)
        app.status.set_status("Unrelated news.")
        await pilot.press("r")  # hides the value
        await settle(pilot)
        assert status_of(pilot) == "Value hidden."
        app.status.set_status("More news.")
        app.status.end_status("reveal")
        assert status_of(pilot) == "More news."

    run(make_app(), scenario)


def test_plural_helper() -> None:
    assert plural(0, "secret") == "0 secrets"
    assert plural(1, "secret") == "1 secret"
    assert plural(1204, "secret") == "1,204 secrets"
    assert plural(2, "entry", "entries") == "2 entries"


def test_one_secret_and_one_plugin_read_in_the_singular() -> None:
    keychain = keychain_class({"team/a/key": (b"v", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.sub_title == f"{EMBEDDED_KIND} · 1 secret · 1 plugin"
        assert status_of(pilot) == "1 secret. ? shows every key."
        summary = str(pilot.app.screen.query_one(PatternBar).query_one("#pattern-summary").render())
        assert summary.startswith("1 secret · ")
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("team")
        await settle(pilot)
        fields = str(pilot.app.screen.query_one("#detail-fields", Static).render())
        assert fields == "Realm with 1 secret under it."

    run(make_app({"docker-pass": keychain}), scenario)


class DaemonLikeEngine(Engine):
    """An engine that says it is the daemon's front (as :class:`DaemonOrEmbedded` does)."""

    kind = DAEMON_KIND


def test_the_header_says_daemon_or_embedded_engine() -> None:
    async def embedded(pilot: Pilot[None], seen: Recorder) -> None:
        assert app_of(pilot).sub_title.startswith(f"demo store · {EMBEDDED_KIND} · 15 secrets")

    run(make_app(subtitle="demo store"), embedded)

    factories = {"docker-pass": keychain_class()}
    app = DockerPassApp(lambda: DaemonLikeEngine(factories=factories), poll_seconds=None)

    async def daemon(pilot: Pilot[None], seen: Recorder) -> None:
        assert app_of(pilot).sub_title == f"{DAEMON_KIND} · 15 secrets · 1 plugin"
        header = pilot.app.screen.query_one(Header)
        assert header.icon == HEADER_ICON

    run(app, daemon)


def test_front_kind_of_the_daemon_front_follows_its_fallback() -> None:
    class Client:
        def close(self) -> None:
            pass

    front = DaemonOrEmbedded(Client())  # type: ignore[arg-type]
    assert front_kind(front) == DAEMON_KIND
    front._fall_back("the daemon went away")
    assert front_kind(front) == EMBEDDED_KIND
    front.close()
    assert front_kind(Engine(factories={})) == EMBEDDED_KIND
