"""End to end: the real ``docker-pass ui --demo`` in tmux, driven by keys, read by capture-pane."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import time
from typing import TYPE_CHECKING, TypeVar

import pytest

from docker_pass.tui.clipboard import PLACEHOLDER
from docker_pass.tui.demo import demo_environment
from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

T = TypeVar("T")

SESSION = "ui"
DEADLINE = 20.0


class Tmux:
    """A private tmux server (its own socket, no user config) running one command."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.base = ["tmux", "-S", str(socket), "-f", "/dev/null"]
        self.env = env

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", SESSION)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)

    def wait_until_still(self, quiet: float = 0.3) -> str:
        """Wait until the screen stops changing (start-up done: terminal set up, data drawn)."""
        deadline = time.monotonic() + DEADLINE
        last, since = self.screen(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never settled:\n{last}")
            time.sleep(0.05)
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()
        return last

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        """Poll the screen until ``check`` holds (the app repaints asynchronously)."""
        return wait_until(self.screen, check, what)

    def paste(self, path: Path) -> None:
        """Paste the file's bytes as a terminal does: bracketed (the app asked for it), each
        line feed sent as CR (tmux's default, like most terminals)."""
        self("load-buffer", "-b", "pasted", str(path))
        self("paste-buffer", "-p", "-d", "-b", "pasted", "-t", SESSION)


def wait_until(read: Callable[[], T], check: Callable[[T], bool], what: str) -> T:
    """Poll ``read()`` until ``check`` holds, within the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        text = read()
        if check(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen:\n{text}")
        time.sleep(0.1)


@pytest.fixture
def tmux(tmp_path: Path, isolated_home: Path) -> Iterator[Tmux]:
    env = dict(os.environ)
    env.pop("TMUX", None)
    env["TERM"] = "xterm-256color"
    env["DOCKER_PASS_OP_PATH"] = str(tmp_path / "no-op-here")  # the demo's 1password-cli crashes
    server = Tmux(tmp_path / "tmux.sock", env)
    command = f"{EXECUTABLE} ui --demo --demo-dir {tmp_path / 'demo'}; echo EXITED=$?; sleep 60"
    server("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", command)
    server("set-option", "-s", "escape-time", "0")  # Escape reaches the app at once
    try:
        yield server
    finally:
        subprocess.run([*server.base, "kill-server"], env=env, capture_output=True, check=False)


def test_the_real_ui_in_tmux(tmux: Tmux) -> None:
    seen: list[str] = []
    seen.append(tmux.wait_for(lambda s: "docker/ 7" in s, "the realm tree"))
    seen.append(tmux.wait_until_still())
    assert "✖ 1password-cli: crashed" in seen[-1]
    assert "16 secrets" in seen[-1]

    tmux.keys("/")
    # The footer changes when the pattern field has the keys.
    seen.append(tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field"))
    tmux.keys("myapp/*/postgres/**", literal=True)
    seen.append(tmux.wait_for(lambda s: "3 of 16 match" in s, "the pattern preview"))
    assert "routed to docker-pass" in seen[-1]
    assert "postgres/ 2" in seen[-1]

    tmux.keys("Escape")
    seen.append(tmux.wait_for(lambda s: "16 secrets · press / to filter" in s, "no filter"))

    tmux.keys("p")
    seen.append(tmux.wait_for(lambda s: "Storage / message" in s, "the plugins panel"))
    panel = seen[-1]
    assert "● running" in panel
    assert "✖ crashed" in panel
    assert "1password-sdk" in panel

    tmux.keys("q")
    seen.append(tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit"))
    assert "EXITED=0" in seen[-1]
    # No secret value was ever on the screen.
    assert not any("not-a-real" in screen or "demo-prod-pg" in screen for screen in seen)


#: A PEM-like value (made up): three lines, LF line breaks, a final one.
PEM = (
    b"-----BEGIN DEMO PRIVATE KEY-----\n"
    b"MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAdemoNotARealKey\n"
    b"-----END DEMO PRIVATE KEY-----\n"
)
OSC52 = re.compile(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


def test_a_bracketed_paste_is_stored_byte_for_byte_and_quitting_clears_the_clipboard(
    tmux: Tmux, tmp_path: Path
) -> None:
    # Everything the app writes to its terminal, escape sequences included (OSC 52 copies).
    output = tmp_path / "pane.out"
    tmux("pipe-pane", "-t", SESSION, "-o", f"cat >> {output}")
    pem = tmp_path / "key.pem"
    pem.write_bytes(PEM)
    seen = [tmux.wait_for(lambda s: "16 secrets" in s, "the listing")]

    tmux.keys("n")
    seen.append(tmux.wait_for(lambda s: "in aws: type the rest" in s, "the editor"))
    tmux.keys("C-u")  # clear the realm "New" pre-filled (aws/, where the cursor starts)
    seen.append(tmux.wait_for(lambda s: "separated by /" in s, "the cleared ID"))
    tmux.keys("tls/demo/key", literal=True)
    seen.append(tmux.wait_for(lambda s: "✓ a valid new ID" in s, "the ID check"))
    tmux.keys("Tab")  # to the value area
    # A paste goes straight to the focused widget, while Tab moves focus only once the app
    # has handled it.  A key typed after Tab is handled after it: once the value area says it
    # holds that key, focus is there (and the key is taken back out).
    tmux.keys("x", literal=True)
    seen.append(tmux.wait_for(lambda s: "1 character" in s, "the focus on the value"))
    tmux.keys("BSpace")
    seen.append(tmux.wait_for(lambda s: "a paste is kept whole" in s, "the empty value"))
    tmux.paste(pem)
    hint = f"{len(PEM)} characters on 3 lines, ending with a line break"
    seen.append(tmux.wait_for(lambda s: hint in s, "the pasted value"))
    assert "•" * 32 in seen[-1]  # drawn masked, line by line
    tmux.keys("C-s")
    seen.append(tmux.wait_for(lambda s: "Created tls/demo/key in docker-pass." in s, "the save"))

    stored = docker_pass("get", "--reveal", "tls/demo/key", env=demo_environment(tmp_path / "demo"))
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout == PEM

    tmux.keys("c")  # copy the value: an OSC 52 write of it
    seen.append(tmux.wait_for(lambda s: "Sent the value of tls/demo/key" in s, "the copy"))
    tmux.keys("q")
    seen.append(tmux.wait_for(lambda s: "EXITED=0" in s, "the app to quit"))
    writes = wait_until(
        lambda: OSC52.findall(output.read_bytes()),
        lambda found: len(found) >= 2,
        "the clipboard clear in the app's output",
    )
    # The value, then a blank over it on quit.
    assert writes == [base64.b64encode(PEM), base64.b64encode(PLACEHOLDER.encode())]
    assert not any("MIIB" in screen or "BEGIN DEMO" in screen for screen in seen)
