"""TUI test helpers: an app over fake plugins, a message recorder, and waiting for workers.

Every test here runs with ``DOCKER_PASS_STORE=file`` and the isolated HOME/XDG dirs of
``tests/conftest.py``, so nothing reaches a real keychain or real plugin state.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from textual.message import Message
from textual.widgets import Input, TextArea
from textual.worker import WorkerCancelled, WorkerFailed

from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import crashing_class, engine_factory, keychain_class

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from textual.pilot import Pilot

M = TypeVar("M", bound=Message)


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file store, never a keychain; and no passphrase from the outer environment, nor
    the tmux the tests may run in (whose set-clipboard would decide what copies do)."""
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_FILE_PASSPHRASE", raising=False)
    monkeypatch.delenv("TMUX", raising=False)


class Recorder:
    """Collects every message the app's message pumps handle (``run_test(message_hook=…)``)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        """The recorded messages of one kind, in order."""
        return [m for m in self.messages if isinstance(m, kind)]


def make_app(classes: Mapping[str, type] | None = None, **options: Any) -> DockerPassApp:
    """An app over fake plugins (default: the demo keychain and a crashed 1password-cli)."""
    if classes is None:
        classes = {"docker-pass": keychain_class(), "1password-cli": crashing_class()}
    options.setdefault("poll_seconds", None)
    options.setdefault("cursor_blink", False)
    app = DockerPassApp(engine_factory(classes), **options)
    app.animation_level = "none"  # no scrolling animations to wait for
    return app


def app_of(pilot: Pilot[None]) -> DockerPassApp:
    """The app under test, typed."""
    app = pilot.app
    assert isinstance(app, DockerPassApp)
    return app


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and the messages they posted are handled (never a sleep)."""
    app = pilot.app
    for _ in range(5):
        # A failed worker is the app's to report (its status line); tests check that.  A
        # cancelled one was replaced by a newer one (an exclusive group): nothing to report.
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            return


async def until(
    pilot: Pilot[None], condition: Callable[[], bool], what: str, *, bound: float = 20.0
) -> None:
    """Wait in short pauses (at most ``bound`` seconds) until ``condition`` holds: what a
    refresh shows (the footer, a label), or what another process or thread brings about."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await pilot.pause(0.02)


async def filled(pilot: Pilot[None]) -> None:
    """Wait until the tree has opened a filter's many results (it does once typing pauses)."""
    tree = pilot.app.screen.query_one(RealmTree)
    deadline = time.monotonic() + 10
    while tree.fill_pending:
        assert time.monotonic() < deadline, "the results were never opened"
        await pilot.pause(0.02)
    await pilot.pause()


async def select(pilot: Pilot[None], id_: str) -> None:
    """Put the tree's cursor on secret ``id_`` (as the keys would) and let the app react."""
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_secret(id_), f"{id_} is not in the tree"
    tree.focus()
    await settle(pilot)


async def type_text(pilot: Pilot[None], text: str, selector: str | None = None) -> None:
    """Type ``text`` into the focused input or text area (or the one ``selector`` names,
    focusing it).

    Inserted in one go: pressing keys one by one costs the test ~0.1 s per key; tests that
    are about single keys press them, and tests about pasting post a real ``Paste`` event.
    """
    app = pilot.app
    if selector is not None:
        app.screen.query_one(selector).focus()
        await pilot.pause()
    field = app.focused
    if isinstance(field, TextArea):
        field.insert(text)
    else:
        assert isinstance(field, Input), f"focus is on {field!r}, not an input"
        field.insert_text_at_cursor(text)
    await settle(pilot)


def run(
    app: DockerPassApp,
    scenario: Callable[[Pilot[None], Recorder], Awaitable[None]],
    size: tuple[int, int] = (100, 30),
) -> Recorder:
    """Run ``scenario`` against ``app`` (loaded and settled first); returns the messages seen."""
    recorder = Recorder()

    async def main() -> None:
        async with app.run_test(size=size, message_hook=recorder) as pilot:
            await settle(pilot)
            await scenario(pilot, recorder)

    asyncio.run(main())
    return recorder
