"""What the status line says about a copy is what happened: sent as OSC 52, or dropped by a
tmux whose ``set-clipboard`` is off (then nothing is sent, and it says how to allow it).

Unit tests inject the detector; the end-to-end tests run the real ``docker-pass ui --demo`` in
a private tmux server (``tmux -L <unique> -f /dev/null``) with set-clipboard off and on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from docker_pass.tui.clipboard import (
    PLACEHOLDER,
    TMUX_FIX,
    Route,
    describe_copy,
    detect_route,
    tmux_set_clipboard,
)
from tests.support.helpers import EXECUTABLE
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle
from tests.tui.test_detail import recording_copies

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from textual.pilot import Pilot

ALICE = "docker/auth/hub/alice"
DEADLINE = 20.0
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


# -- the messages -------------------------------------------------------------------------------


def test_describe_copy_says_sent_not_copied() -> None:
    text, level = describe_copy(Route.TERMINAL, "se://a/b")
    assert (text, level) == ("Sent se://a/b to the terminal's clipboard (OSC 52).", "success")
    text, _ = describe_copy(Route.TERMINAL, "the value of a/b", 30.0)
    assert text.endswith("; a blank replaces it in 30 s.")
    text, level = describe_copy(Route.TMUX_DROPS, "se://a/b")
    assert level == "warning"
    assert text == f"Not copied: tmux has set-clipboard off. Run: {TMUX_FIX}"
    assert len(text) < 78  # whole in an 80-column status line


# -- the detector -------------------------------------------------------------------------------


def test_outside_tmux_nothing_is_asked() -> None:
    # No TMUX: tmux is not run at all (a PATH without tmux would make no difference).
    assert tmux_set_clipboard({"PATH": os.defpath}) is None


def test_a_tmux_that_cannot_be_asked_counts_as_passing_it_on(tmp_path: Path) -> None:
    env = {"TMUX": f"{tmp_path / 'gone.sock'},1,0", "PATH": str(tmp_path)}  # no tmux on PATH
    assert tmux_set_clipboard(env) is None


@needs_tmux
@pytest.mark.parametrize(("setting", "route"), [("off", Route.TMUX_DROPS), ("on", Route.TERMINAL)])
def test_the_detector_reads_the_real_tmux_option(
    setting: str, route: Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    with private_tmux(os.environ.copy()) as tmux:
        tmux("new-session", "-d", "-s", "s", "sleep 60")
        tmux("set-option", "-g", "set-clipboard", setting)
        socket = tmux("display-message", "-p", "-t", "s", "#{socket_path}").strip()
        monkeypatch.setenv("TMUX", f"{socket},1,0")  # as tmux sets it in its panes
        assert tmux_set_clipboard() == setting
        assert detect_route() is route


# -- the app, with an injected detector ---------------------------------------------------------


def test_with_tmux_dropping_writes_nothing_is_sent_and_the_status_says_what_to_do() -> None:
    app = make_app()
    copies = recording_copies(app)
    asked: list[str] = []

    def off() -> Route:
        asked.append(threading.current_thread().name)
        return Route.TMUX_DROPS

    app.values.clipboard.detector = off

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("c")
        await settle(pilot)
        assert status_of(pilot).startswith("Not copied: tmux has set-clipboard off.")
        assert TMUX_FIX in status_of(pilot)
        assert app.status.message.level == "warning"
        await pilot.press("y")
        await settle(pilot)
        assert "Not copied" in status_of(pilot)
        await pilot.press("q")
        await settle(pilot)

    run(app, scenario)
    assert copies == []  # not the value, not the reference, and no blank on quit
    assert len(asked) == 2  # "off" is asked again on the next copy (it may have been fixed)
    assert threading.main_thread().name not in asked  # asked in a worker thread


def test_passing_on_is_asked_once_and_the_status_says_sent() -> None:
    app = make_app(clipboard_seconds=1.0)
    copies = recording_copies(app)
    asked: list[Route] = []

    def passes() -> Route:
        asked.append(Route.TERMINAL)
        return Route.TERMINAL

    app.values.clipboard.detector = passes

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("y")
        await settle(pilot)
        assert status_of(pilot) == f"Sent se://{ALICE} to the terminal's clipboard (OSC 52)."
        await pilot.press("c")
        await settle(pilot)
        assert status_of(pilot).startswith(f"Sent the value of {ALICE} to the terminal's")
        await pilot.pause(1.3)  # the blank goes over it
        assert status_of(pilot) == "Sent a blank over the copied value (1 s after copying)."

    run(app, scenario)
    assert asked == [Route.TERMINAL]  # cached for the session
    assert copies[0] == f"se://{ALICE}"
    assert copies[2:] == [PLACEHOLDER]


def test_a_failing_detector_still_sends_and_the_failure_is_shown() -> None:
    app = make_app()
    copies = recording_copies(app)

    def broken() -> Route:
        raise RuntimeError("boom")

    app.values.clipboard.detector = broken

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("y")
        await settle(pilot)
        assert "failed: internal error (RuntimeError)" in status_of(pilot)

    run(app, scenario)
    assert copies[:1] == [f"se://{ALICE}"]


# -- the real thing: the UI in a private tmux server --------------------------------------------


class PrivateTmux:
    """``tmux -L <unique> -f /dev/null``: its own server, no user configuration."""

    def __init__(self, env: dict[str, str]) -> None:
        self.base = ["tmux", "-L", f"dp-{uuid.uuid4().hex[:12]}", "-f", "/dev/null"]
        self.env = env

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "ui")

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while True:
            text = self.screen()
            if check(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last seen:\n{text}")
            time.sleep(0.1)  # polling another process's screen; nothing to await


@contextlib.contextmanager
def private_tmux(env: dict[str, str]) -> Iterator[PrivateTmux]:
    """A private tmux server, killed afterwards (the outer tmux, if any, left out)."""
    env.pop("TMUX", None)
    env["TERM"] = "xterm-256color"
    tmux = PrivateTmux(env)
    try:
        yield tmux
    finally:
        subprocess.run([*tmux.base, "kill-server"], env=env, capture_output=True, check=False)


@pytest.fixture
def ui_in_tmux(tmp_path: Path, isolated_home: Path) -> Iterator[PrivateTmux]:
    env = dict(os.environ)
    env["DOCKER_PASS_OP_PATH"] = str(tmp_path / "no-op-here")
    with private_tmux(env) as tmux:
        command = f"{EXECUTABLE} ui --demo --demo-dir {tmp_path / 'demo'}; echo EXITED; sleep 60"
        tmux("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", command)
        tmux("set-option", "-s", "escape-time", "0")
        yield tmux
        # Quit the app itself, rather than leave it to the server's end: a UI killed with
        # its terminal would still be tearing down while the next tests run.
        tmux("send-keys", "-t", "ui", "q")
        tmux.wait_for(lambda s: "EXITED" in s, "the app to quit")


def copy_a_reference(tmux: PrivateTmux) -> str:
    """Put the cursor on aws/dev/access-key-id and press y; the screen after the copy."""
    tmux.wait_for(lambda s: "16 secrets" in s, "the listing")
    tmux("send-keys", "-t", "ui", "l")  # open aws/ (the cursor starts on it)
    tmux.wait_for(lambda s: "dev/ 2" in s, "aws/ opened")
    tmux("send-keys", "-t", "ui", "j", "l")
    tmux.wait_for(lambda s: "access-key-id" in s, "aws/dev/ opened")
    tmux("send-keys", "-t", "ui", "j")
    tmux.wait_for(lambda s: "se://aws/dev/access-key-id" in s, "the secret under the cursor")
    tmux("send-keys", "-t", "ui", "y")
    return tmux.wait_for(lambda s: "se://aws/dev/access-key-id to" in s or "Not copied" in s, "y")


@needs_tmux
def test_in_tmux_with_set_clipboard_off_the_status_says_it_did_not_reach_the_clipboard(
    ui_in_tmux: PrivateTmux,
) -> None:
    ui_in_tmux("set-option", "-g", "set-clipboard", "off")
    screen = copy_a_reference(ui_in_tmux)
    assert "Not copied: tmux has set-clipboard off." in screen
    assert "tmux set -g set-clipboard on" in screen
    assert ui_in_tmux("list-buffers") == ""  # nothing reached tmux either


@needs_tmux
def test_in_tmux_with_set_clipboard_on_the_status_says_sent_and_tmux_got_it(
    ui_in_tmux: PrivateTmux,
) -> None:
    ui_in_tmux("set-option", "-g", "set-clipboard", "on")
    screen = copy_a_reference(ui_in_tmux)
    assert "Sent se://aws/dev/access-key-id to the terminal's clipboard (OSC 52)." in screen
    # With "on", tmux keeps what an app sends as a paste buffer: the write arrived.
    assert ui_in_tmux("show-buffer") == "se://aws/dev/access-key-id"
