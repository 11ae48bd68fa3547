"""The app's controllers without an app: a fake runner, a fake gateway, a recorded status line.

The app is one class whose handlers each run once per message (no handler in two classes of
its MRO), and every worker group is a :class:`WorkerGroup`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest

from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.plugin import Capability
from docker_pass.core.results import PluginStatus
from docker_pass.core.state import RunStatus
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.controllers.listing import ListingController
from docker_pass.tui.controllers.plugins import PluginsController
from docker_pass.tui.controllers.status import StatusBoard
from docker_pass.tui.controllers.undo import UndoController
from docker_pass.tui.messages import (
    ListingStarted,
    PluginListed,
    PluginsLoaded,
    SecretDeleted,
    SecretSaved,
)
from docker_pass.tui.model.gateway import SecretDraft
from docker_pass.tui.model.undo import NOTHING_TO_UNDO
from docker_pass.tui.workers import UNKNOWN_WORK, WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.message import Message

    from docker_pass.tui.model.gateway import SecretsGateway
    from docker_pass.tui.widgets.status_line import StatusMessage


class FakeTimer:
    def __init__(self, seconds: float, callback: Callable[[], object]) -> None:
        self.seconds = seconds
        self.callback = callback
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class FakeRunner:
    """Keeps the work it is given (run with :meth:`run_all`) and the messages posted."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, Callable[[], object]]] = []
        self.posted: list[Message] = []
        self.timers: list[FakeTimer] = []
        self.busy: set[str] = set()

    def run_in_thread(
        self,
        group: WorkerGroup,
        work: Callable[[], object],
        *,
        plugin: str = "",
        exclusive: bool = True,
    ) -> None:
        self.pending.append((group.of(plugin), work))

    def running(self, group: WorkerGroup, plugin: str = "") -> bool:
        return group.of(plugin) in self.busy

    def post_message(self, message: Message) -> bool:
        self.posted.append(message)
        return True

    def call_after_refresh(self, callback: Callable[[], object]) -> None:
        callback()

    def set_timer(self, seconds: float, callback: Callable[[], object]) -> FakeTimer:
        timer = FakeTimer(seconds, callback)
        self.timers.append(timer)
        return timer

    def groups(self) -> list[str]:
        return [group for group, _ in self.pending]

    def run_all(self) -> None:
        pending, self.pending = self.pending, []
        for _, work in pending:
            work()


class StatusRecorder:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def set_status(self, text: str, level: str = "info", *, topic: str = "") -> None:
        self.said.append((text, level))

    def end_status(self, topic: str) -> None:
        self.said.append(("", f"end {topic}"))


class FakeGateway:
    """The gateway calls the controllers make, over a dict of (id, provider) -> value."""

    def __init__(self, statuses: list[PluginStatus], secrets: dict[str, bytes]) -> None:
        self.statuses = statuses
        self.secrets = {(id_, "docker-pass"): value for id_, value in secrets.items()}
        self.toggled: list[tuple[str, bool]] = []

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        return self.statuses

    def plugin_status(self, name: str) -> PluginStatus | None:
        return next((s for s in self.statuses if s.name == name), None)

    def list_plugin(self, name: str) -> list[SecretInfo]:
        return [SecretInfo(ID(i), p) for i, p in sorted(self.secrets) if p == name]

    def watch_hint(self, name: str) -> None:
        return None

    def versioned(self, name: str) -> bool | None:
        return None

    def read_for_undo(self, id_: ID, provider: str) -> Envelope | None:
        value = self.secrets.get((id_.value, provider))
        return None if value is None else Envelope(id_, value, provider)

    def save(self, draft: SecretDraft) -> SecretInfo:
        self.secrets[(draft.id.value, draft.provider)] = draft.value or b""
        return SecretInfo(draft.id, draft.provider)

    def delete(self, info: SecretInfo) -> bool:
        return self.secrets.pop((info.id.value, info.provider), None) is not None

    def set_enabled(self, name: str, enabled: bool) -> PluginStatus:
        self.toggled.append((name, enabled))
        return plugin(name, configurable=True)


def plugin(name: str, *, configurable: bool = False, down: bool = False) -> PluginStatus:
    return PluginStatus(
        name=name,
        version="1",
        status=RunStatus.CRASHED if down else RunStatus.RUNNING,
        configurable=configurable,
        enabled=True,
        pattern="**",
        message="it broke" if down else "",
        capabilities=frozenset({Capability.LIST, Capability.READ, Capability.WRITE}),
    )


def gateway_of(fake: FakeGateway) -> SecretsGateway:
    return cast("SecretsGateway", fake)


# -- the app's shape ------------------------------------------------------------------------


def test_the_app_is_one_class_of_ours() -> None:
    ours = [c for c in DockerPassApp.__mro__ if c.__module__.startswith("docker_pass.")]
    assert ours == [DockerPassApp]


def test_no_handler_of_the_app_is_defined_twice_in_its_mro() -> None:
    # Textual calls each class's handler of a message; one class each means one call each.
    handlers = [name for name in vars(DockerPassApp) if name.startswith("on_")]
    assert "on_worker_state_changed" in handlers
    for name in handlers:
        defining = [c for c in DockerPassApp.__mro__ if {name, f"_{name}"} & set(vars(c))]
        assert defining == [DockerPassApp], name
    assert not getattr(DockerPassApp, "_decorated_handlers", None)


# -- worker groups --------------------------------------------------------------------------


def test_a_plugins_group_is_derived_from_its_kind_and_parsed_back() -> None:
    assert WorkerGroup.LISTING.of("1password-cli") == "listing:1password-cli"
    assert WorkerGroup.LISTING.of("") == "listing"
    assert WorkerGroup.parse("listing:1password-cli") == (WorkerGroup.LISTING, "1password-cli")
    assert WorkerGroup.parse("watch:docker-pass") == (WorkerGroup.WATCH, "docker-pass")
    assert WorkerGroup.parse("save") == (WorkerGroup.SAVE, "")
    assert WorkerGroup.parse("default") == (None, "")


def test_each_group_says_what_failed() -> None:
    assert WorkerGroup.LISTING.label == "Listing secrets"
    assert WorkerGroup.REVEAL.label == "Reading the value"
    assert WorkerGroup.SETUP.label == "Setting up the plugin"
    assert WorkerGroup.CLIPBOARD.label == UNKNOWN_WORK  # said as "A background task"
    assert all(group.label for group in WorkerGroup)


# -- the listing ----------------------------------------------------------------------------


def test_each_plugin_is_listed_in_its_own_group_and_the_last_answer_completes_it() -> None:
    runner = FakeRunner()
    changes: list[bool] = []
    fake = FakeGateway([plugin("docker-pass"), plugin("vault")], {"a/one": b"1"})
    listing = ListingController(gateway_of(fake), runner, changes.append, refresh_seconds=None)
    listing.load_everything()
    assert runner.groups() == ["listing"]
    runner.run_all()
    assert [type(m) for m in runner.posted] == [PluginsLoaded, ListingStarted]
    started = runner.posted[-1]
    assert isinstance(started, ListingStarted)
    listing.started(started)
    assert runner.groups() == ["listing:docker-pass", "listing:vault"]
    assert listing.awaiting("vault")
    listing.listed(PluginListed("docker-pass", [SecretInfo(ID("a/one"), "docker-pass")]))
    assert changes == [False]
    assert not listing.loaded
    listing.listed(PluginListed("vault", [], "sealed"))
    assert changes == [False, True]
    assert listing.loaded
    assert dict(listing.errors) == {"vault": "sealed"}
    assert listing.lists("a/one", "docker-pass")
    listing.listed(PluginListed("gone", [SecretInfo(ID("b"), "gone")]))  # never asked: stale
    assert not listing.lists("b", "gone")


def test_the_interval_lists_again_only_unwatched_plugins_not_listing_now() -> None:
    runner = FakeRunner()
    listing = ListingController(
        gateway_of(FakeGateway([], {})), runner, lambda _first: None, refresh_seconds=None
    )
    listing.started(ListingStarted(("a", "b", "c")))
    for name in ("a", "b"):
        listing.listed(PluginListed(name, []))
    runner.pending.clear()
    runner.busy.add("listing:b")
    listing.refresh_unwatched()
    assert runner.groups() == ["listing:a"]  # b is listing now, c has not answered yet


# -- plugins --------------------------------------------------------------------------------


def test_a_crashed_plugin_is_re_enabled_only_after_asking() -> None:
    runner, status = FakeRunner(), StatusRecorder()
    asked: list[tuple[PluginStatus, Callable[[], None]]] = []

    class Panel:
        def show_statuses(self, statuses: tuple[PluginStatus, ...]) -> None:
            pass

        def ask_reenable(self, status: PluginStatus, on_yes: Callable[[], None]) -> None:
            asked.append((status, on_yes))

    fake = FakeGateway([], {})
    plugins = PluginsController(gateway_of(fake), runner, status, Panel())
    plugins.request_toggle(plugin("docker-pass"))
    assert status.said == [("docker-pass is always on: it is not configurable.", "warning")]
    crashed = plugin("vault", configurable=True, down=True)
    plugins.request_toggle(crashed)
    assert [s for s, _ in asked] == [crashed]
    assert runner.pending == []
    asked[0][1]()  # yes
    assert status.said[-1] == ("Re-enabling vault…", "info")
    runner.run_all()
    assert fake.toggled == [("vault", True)]


# -- undo -----------------------------------------------------------------------------------


def test_a_delete_keeps_the_secret_and_undo_saves_it_back() -> None:
    runner, status = FakeRunner(), StatusRecorder()
    fake = FakeGateway([], {"a/one": b"v1"})
    undo = UndoController(gateway_of(fake), runner, status)
    info = SecretInfo(ID("a/one"), "docker-pass")
    undo.undo()
    assert status.said == [(NOTHING_TO_UNDO, "warning")]
    undo.delete(info)
    assert runner.groups() == ["delete"]
    runner.run_all()
    (deleted,) = runner.posted
    assert isinstance(deleted, SecretDeleted)
    assert deleted.existed
    assert undo.deleted_text(info, existed=True) == (
        "Deleted a/one from docker-pass. u undoes it.",
        "success",
    )
    assert fake.secrets == {}
    undo.undo()
    assert runner.groups() == ["undo"]
    runner.run_all()
    assert fake.secrets == {("a/one", "docker-pass"): b"v1"}


def test_a_save_says_whether_it_created_replaced_or_saved() -> None:
    runner, status = FakeRunner(), StatusRecorder()
    fake = FakeGateway([], {"a/one": b"v1"})
    undo = UndoController(gateway_of(fake), runner, status)
    undo.save(SecretDraft(ID("a/one"), b"v2", {}, "docker-pass"), created=False)
    runner.run_all()
    (saved,) = runner.posted
    assert isinstance(saved, SecretSaved)
    info = saved.info
    assert undo.saved_text(info, created=False, replaced=False) == (
        "Saved a/one in docker-pass. u undoes it."
    )
    assert undo.saved_text(info, created=True, replaced=True).startswith("Replaced a/one")
    fresh = SecretInfo(ID("b"), "docker-pass")
    assert undo.saved_text(fresh, created=True, replaced=False) == "Created b in docker-pass."


# -- the status line ------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [None, 5.0])
def test_a_status_ends_with_its_topic_or_its_time(seconds: float | None) -> None:
    runner = FakeRunner()
    shown: list[StatusMessage] = []
    board = StatusBoard(runner, shown.append, seconds)
    board.set_status("Showing a/one", "warning", topic="reveal")
    board.end_status("copy")
    assert board.message.text == "Showing a/one"
    board.end_status("reveal")
    assert board.message.text == ""
    assert [m.text for m in shown] == ["Showing a/one", ""]
    if seconds is None:
        assert runner.timers == []
    else:
        (timer,) = runner.timers
        assert timer.seconds == seconds
        assert timer.stopped  # replaced by the empty message, which sets none
