"""The UI comes back where it was: filter, open realms, order, cursor and focus, kept on quit.

Two apps in a row over the same isolated XDG state dir, as two runs of ``docker pass ui``;
the second may hold fewer secrets (deleted meanwhile): what is gone is dropped, and the
cursor lands on the nearest realm that still exists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual.widgets import Input

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.model.realms import SortOrder
from docker_pass.tui.model.ui_state import Cursor, UiState, load_ui_state, save_ui_state, state_path
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import RealmNode
from tests.support.tui_fakes import demo_secrets, keychain_class
from tests.tui.conftest import app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

PASSWORD = "myapp/prod/postgres/password"


def tree_of(pilot: Pilot[None]) -> RealmTree:
    return pilot.app.screen.query_one(RealmTree)


def under_cursor(pilot: Pilot[None]) -> str:
    data = tree_of(pilot).highlighted
    if isinstance(data, SecretInfo):
        return data.id.value
    if isinstance(data, RealmNode):
        return data.path + "/"
    return repr(data)


def without(*ids: str) -> type:
    secrets = demo_secrets()
    for id_ in ids:
        del secrets[id_]
    return keychain_class(secrets)


def test_quit_and_start_again_in_the_same_place() -> None:
    async def first(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, PASSWORD)  # opens myapp/, myapp/prod/, myapp/prod/postgres/
        tree = tree_of(pilot)
        assert tree.show_realm("aws/dev")
        tree.focus()
        await pilot.press("l")  # open aws/dev
        await pilot.press("s")  # by provider
        await select(pilot, PASSWORD)
        await pilot.press("q")

    run(make_app(), first)
    state, note = load_ui_state()
    assert note == ""
    assert state is not None
    assert state.cursor == Cursor("secret", PASSWORD, "docker-pass")
    assert {"myapp", "myapp/prod", "myapp/prod/postgres", "aws", "aws/dev"} <= set(
        state.open_realms
    )

    async def second(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.place.applied
        assert under_cursor(pilot) == PASSWORD
        assert pilot.app.focused is tree_of(pilot)
        assert app.view.sort_order is SortOrder.PROVIDER
        assert pilot.app.screen.query_one(PatternBar).order is SortOrder.PROVIDER
        assert {"aws", "aws/dev", "myapp/prod/postgres"} <= tree_of(pilot).opened_realms()

    run(make_app(), second)


def test_the_filter_and_its_focus_come_back() -> None:
    async def first(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("slash")
        await type_text(pilot, "docker/au")
        await settle(pilot)
        await pilot.press("q")  # q in the field is typed, not a quit…
        await pilot.press("backspace")
        await app_of(pilot).action_quit()  # …so the palette's Quit

    run(make_app(), first)

    async def second(pilot: Pilot[None], seen: Recorder) -> None:
        bar = pilot.app.screen.query_one(PatternBar)
        assert bar.text == "docker/au"
        assert app_of(pilot).pattern.preview.text == "docker/au"
        assert isinstance(pilot.app.focused, Input)  # the cursor is in the field again
        assert bar.preview is not None
        assert bar.preview.matched == 3  # docker/auth/…: alice, bob, ghcr.io/alice

    run(make_app(), second)


def test_a_deleted_secret_puts_the_cursor_on_its_nearest_realm() -> None:
    save_ui_state(
        UiState(
            open_realms=("aws", "aws/dev", "gh", "gh/ci"),
            cursor=Cursor("secret", "gh/ci/token", "docker-pass"),
        )
    )

    async def second(pilot: Pilot[None], seen: Recorder) -> None:
        # gh/ holds nothing any more: neither reopened nor the cursor's place; aws/dev is.
        assert under_cursor(pilot) == "aws/"  # the first realm: gh/ci and gh are gone
        opened = tree_of(pilot).opened_realms()
        assert {"aws", "aws/dev"} <= opened
        assert not opened & {"gh", "gh/ci"}

    run(make_app({"docker-pass": without("gh/ci/token")}), second)

    save_ui_state(UiState(cursor=Cursor("secret", PASSWORD, "docker-pass")))

    async def third(pilot: Pilot[None], seen: Recorder) -> None:
        assert under_cursor(pilot) == "myapp/prod/postgres/"  # user is still there

    run(make_app({"docker-pass": without(PASSWORD)}), third)


def test_a_realm_cursor_whose_realm_is_gone_goes_up() -> None:
    save_ui_state(UiState(cursor=Cursor("realm", "myapp/staging/redis")))

    async def second(pilot: Pilot[None], seen: Recorder) -> None:
        assert under_cursor(pilot) == "myapp/staging/"

    run(make_app({"docker-pass": without("myapp/staging/redis/url")}), second)


def test_fresh_starts_at_the_top_and_still_remembers_on_quit() -> None:
    save_ui_state(UiState(filter="aws/", cursor=Cursor("secret", PASSWORD, "docker-pass")))

    async def fresh(pilot: Pilot[None], seen: Recorder) -> None:
        assert pilot.app.screen.query_one(PatternBar).text == ""
        assert under_cursor(pilot) == "aws/"  # the first line, as with nothing remembered
        await select(pilot, "gh/ci/token")
        await pilot.press("q")

    run(make_app(fresh=True), fresh)
    state, _ = load_ui_state()
    assert state is not None
    assert state.cursor == Cursor("secret", "gh/ci/token", "docker-pass")
    assert state.filter == ""


def test_remember_off_neither_reads_nor_writes() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, PASSWORD)
        await pilot.press("q")

    run(make_app(remember=False), scenario)
    assert not state_path().exists()


def test_a_broken_state_file_is_a_quiet_note_and_the_ui_starts() -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.place.applied
        assert len(app.listing.index) == len(demo_secrets())
        await select(pilot, PASSWORD)
        await pilot.press("q")

    run(make_app(), scenario)
    assert json.loads(path.read_text())["version"] == 1  # replaced on quit
    assert load_ui_state()[0] is not None


def test_what_a_person_does_before_the_listing_arrives_wins() -> None:
    """A filter typed while the plugins were still listing is not replaced by the old one."""
    save_ui_state(UiState(filter="aws/", sort="updated"))

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        bar = pilot.app.screen.query_one(PatternBar)
        assert bar.text == "gh/"
        assert app_of(pilot).view.sort_order is SortOrder.UPDATED  # not chosen: restored

    app = make_app()
    place = app.place
    listing_ready = place.listing_ready

    def typed_first() -> None:
        bar = app.screen.query_one(PatternBar)
        bar.set_text("gh/")
        listing_ready()

    place.listing_ready = typed_first  # type: ignore[method-assign]
    run(app, scenario)


def test_quitting_before_the_listing_keeps_the_remembered_place() -> None:
    """A quit before the place was restored writes back the place remembered, not the empty
    screen of a UI still loading."""
    remembered = UiState(filter="aws/", cursor=Cursor("secret", PASSWORD, "docker-pass"))
    save_ui_state(remembered)
    app = make_app()
    app.place.listing_ready = lambda: None  # type: ignore[method-assign]  # never listed

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        assert not app.place.applied
        await app.action_quit()

    run(app, scenario)
    state, _ = load_ui_state()
    assert state == remembered


def test_a_fifo_for_a_state_file_is_a_note_and_never_blocks_the_start() -> None:
    import os

    path = state_path()
    path.parent.mkdir(parents=True)
    os.mkfifo(path)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.place.applied
        assert len(app.listing.index) == len(demo_secrets())
        assert under_cursor(pilot) == "aws/"

    recorder = run(make_app(), scenario)
    from docker_pass.tui.messages import PlaceRead

    (read,) = recorder.of(PlaceRead)
    assert read.state is None
    assert "FIFO" in read.note


def test_a_field_focused_before_the_listing_arrives_keeps_the_keys() -> None:
    """``/`` pressed while the plugins were still listing: the remembered place (the tree had
    the keys, a cursor on a secret) does not take the keys back from the empty field, so what
    the person types next goes where they put it."""
    save_ui_state(UiState(cursor=Cursor("secret", PASSWORD, "docker-pass"), focus="tree"))

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await settle(pilot)
        assert app_of(pilot).place.applied
        bar = pilot.app.screen.query_one(PatternBar)
        assert bar.has_focus_within
        await pilot.press(*"gh/")
        await settle(pilot)
        assert bar.text == "gh/"

    app = make_app()
    place = app.place
    listing_ready = place.listing_ready

    def field_first() -> None:
        app.screen.query_one(PatternBar).focus_field()
        listing_ready()

    place.listing_ready = field_first  # type: ignore[method-assign]
    run(app, scenario)
