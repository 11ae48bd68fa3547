"""The detail pane's "Used by" section, its whole list (U), and following container events,
over a stand-in Docker door (:mod:`tests.tui.usage_fakes`)."""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING

from rich.console import Console

from docker_pass.core.docker.engine_api import DockerUnreachableError
from docker_pass.core.docker.usage import CONTAINER, Place, Referrer
from docker_pass.tui.screens.used_by import UsedByScreen
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.status_line import StatusLine
from docker_pass.tui.widgets.used_by import UsedBy
from tests.tui.conftest import app_of, make_app, run, select, settle, until
from tests.tui.usage_fakes import DB, STRIPE, FakeDocker

if TYPE_CHECKING:
    import threading

    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

ALICE = "docker/auth/hub/alice"
DELETED_HINT = "Put the cursor on a deleted secret first."


def used_by_text(pilot: Pilot[None]) -> str:
    """The section as drawn: its lines, trailing spaces stripped."""
    widget = pilot.app.screen.query_one(UsedBy)
    if widget.has_class("-hidden"):
        return ""
    summary = widget.summary
    assert summary is not None
    width = widget.content_region.width
    console = Console(width=width, file=io.StringIO(), legacy_windows=False)
    with console.capture() as capture:
        console.print(widget.lines(summary, width))
    return "\n".join(line.rstrip() for line in capture.get().splitlines())


def status_text(pilot: Pilot[None]) -> str:
    return pilot.app.screen.query_one(StatusLine).message.text


async def used_by_shown(pilot: Pilot[None], docker: FakeDocker) -> None:
    await until(pilot, lambda: app_of(pilot).usage.gathered is not None, "the first gathering")
    await settle(pilot)


def test_the_pane_counts_the_places_and_names_the_first_few() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        text = used_by_text(pilot)
        lines = text.splitlines()
        assert lines[0].startswith("Used by    5 places"), text
        assert lines[1].strip().startswith("batch-7 (running) x-secret:myapp/prod/**")
        assert "billing-worker (exited) PG_PASS" in lines[2]
        assert "shop-web-1 (running) DB_PASSWORD" in lines[3]
        assert "+2 more · U lists all" in lines[4]
        assert len(lines) == 5
        # Another secret: its own uses, from the same gathering (no new one).
        gathers = docker.gathers
        await select(pilot, STRIPE)
        stripe = used_by_text(pilot).splitlines()
        assert stripe[0] == "Used by    2 containers"
        assert stripe[1].strip().startswith("batch-7 (running)")
        assert stripe[2].strip() == "shop-web-1 (running) STRIPE_KEY"
        await select(pilot, ALICE)
        assert used_by_text(pilot).startswith("Used by    nothing found using it")
        assert docker.gathers == gathers
        # Matched once per secret per gathering, however often the cursor comes back.
        await select(pilot, DB)
        await select(pilot, STRIPE)
        assert docker.matched.count(DB) == 1
        assert docker.matched.count(STRIPE) == 1

    run(make_app(docker=docker), scenario)


def test_the_pane_fits_80_columns_with_an_ellipsis() -> None:
    long_name = "a-container-whose-name-goes-on-and-on-" + "x" * 80
    place = Place(CONTAINER, long_name, container_id="d" * 64, state="running")
    docker = FakeDocker([Referrer(place, "DB_PASSWORD", DB)])

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        widget = pilot.app.screen.query_one(UsedBy)
        lines = used_by_text(pilot).splitlines()
        assert all(len(line) <= widget.content_region.width for line in lines), lines
        assert lines[1].strip().startswith("a-container-whose-name")
        assert lines[1].endswith("…")
        assert lines[2].strip() == "U lists them with their references"

    run(make_app(docker=docker), scenario, size=(80, 24))


def test_outside_text_is_cleaned_before_it_reaches_the_pane() -> None:
    place = Place(
        CONTAINER, "evil\x1b[2J\x1b]0;pwned\x07name", container_id="e" * 64, state="run\nning"
    )
    docker = FakeDocker([Referrer(place, "VAR\x1b[31m", DB)])

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        text = used_by_text(pilot)
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "evil" in text
        assert "name" in text

    run(make_app(docker=docker), scenario)


def test_without_an_engine_one_line_says_why_and_no_error_is_shown() -> None:
    reason = (
        "cannot reach the Docker engine at unix:///var/run/docker.sock: No such file or directory"
    )
    docker = FakeDocker(docker=reason)

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        # One line of text (wrapped in the pane, whole).
        drawn = " ".join(part.strip() for part in used_by_text(pilot).split("\n"))
        assert drawn == (
            "Used by    no Docker engine (cannot reach unix:///var/run/docker.sock: No such file "
            "or directory)"
        )
        assert not pilot.app._notifications  # no error dialog or toast
        await pilot.press("U")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, UsedByScreen)
        assert status_text(pilot).startswith("Used by: no Docker engine (cannot reach")

    run(make_app(docker=docker), scenario)


def test_a_gathering_that_fails_says_so_and_the_next_event_tries_again() -> None:
    docker = FakeDocker()
    docker.broken = OSError(5, "Input/output error")

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        app = app_of(pilot)
        await until(pilot, lambda: bool(app.usage.failure), "the failure")
        await select(pilot, DB)
        assert used_by_text(pilot).startswith("Used by    not read (internal error (OSError))")
        await until(pilot, lambda: docker.streams >= 1, "the events stream is open")
        docker.broken = None
        docker.container_event(time.time_ns())
        await until(pilot, lambda: "5 places" in used_by_text(pilot), "a gathering that works")

    run(make_app(docker=docker), scenario)


def test_without_a_door_there_is_no_section_and_u_is_undelete_as_before() -> None:
    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await select(pilot, DB)
        assert used_by_text(pilot) == ""
        await pilot.press("U")
        await settle(pilot)
        assert status_text(pilot) == DELETED_HINT

    run(make_app(), scenario)


def test_u_lists_every_place_grouped_and_escape_closes_it() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        await pilot.press("U")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, UsedByScreen)
        groups = [str(s.render()) for s in screen.query(".used-by-group")]
        assert len(groups) == 3
        summary = screen.summary
        assert [p.name for p in summary.places()] == [
            "batch-7",
            "billing-worker",
            "shop-web-1",
            "shop/migrate",
            "/srv/shop/.env",
        ]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen.query_one(DetailPane), DetailPane)
        assert not isinstance(pilot.app.screen, UsedByScreen)
        # On a realm the key has nothing to list: it falls to undelete, which says so.
        tree = pilot.app.screen.query_one("#realm-tree")
        assert tree is not None

    run(make_app(docker=docker), scenario)


def test_a_container_event_brings_a_new_gathering_without_a_key() -> None:
    docker = FakeDocker([])

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        app = app_of(pilot)
        await used_by_shown(pilot, docker)
        await select(pilot, DB)
        assert used_by_text(pilot).startswith("Used by    nothing found using it")
        follower = app.usage.follower
        assert follower is not None
        await until(pilot, lambda: docker.streams >= 1, "the events stream is open")
        docker.referrers = [
            Referrer(Place(CONTAINER, "late", container_id="f" * 64, state="running"), "P", DB)
        ]
        docker.container_event(time.time_ns())
        await until(pilot, lambda: "late (running)" in used_by_text(pilot), "the new container")

    run(make_app(docker=docker), scenario)


def test_a_burst_of_events_is_one_gathering() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        app = app_of(pilot)
        await used_by_shown(pilot, docker)
        await until(pilot, lambda: docker.streams >= 1, "the events stream is open")
        before = app.usage.generation
        start = time.time_ns()
        for n in range(200):
            docker.container_event(start + n)
        await until(pilot, lambda: app.usage.generation > before, "a new gathering")
        await until(pilot, docker.feed.empty, "every event read")
        await settle(pilot)
        # At most one gathering for the burst, and one for events after its start.
        assert app.usage.generation - before <= 2

    run(make_app(docker=docker), scenario)


def test_the_follower_reconnects_after_the_engine_went_away() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        app = app_of(pilot)
        await used_by_shown(pilot, docker)
        await until(pilot, lambda: docker.streams >= 1, "the events stream is open")
        before = app.usage.generation
        docker.feed.put(DockerUnreachableError("cannot reach the Docker engine at x: gone"))
        # The outage itself is a change (the pane then says why), and so is its end.
        await until(pilot, lambda: docker.streams >= 2, "a second stream", bound=20)
        await until(pilot, lambda: app.usage.generation > before, "a gathering after the outage")

    run(make_app(docker=docker), scenario)


def test_quitting_stops_the_follower_thread() -> None:
    docker = FakeDocker()
    threads: list[threading.Thread] = []

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        app = app_of(pilot)
        await used_by_shown(pilot, docker)
        follower = app.usage.follower
        assert follower is not None
        threads.append(follower.thread)
        await pilot.press("q")

    run(make_app(docker=docker), scenario)
    deadline = time.monotonic() + 10
    while threads[0].is_alive():
        assert time.monotonic() < deadline, "the events thread outlived the app"
        threads[0].join(0.05)
