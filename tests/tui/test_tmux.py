"""End to end: the real ``docker-pass ui --demo`` in tmux, driven by keys, read by capture-pane."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

import pytest

from docker_pass.tui.clipboard import PLACEHOLDER
from docker_pass.tui.demo import demo_environment
from tests.support.helpers import docker_pass
from tests.tui.tmux_driver import SESSION, Tmux, launch_ui, requires_tmux, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = requires_tmux


@pytest.fixture
def tmux(tmp_path: Path, isolated_home: Path) -> Iterator[Tmux]:
    with launch_ui(tmp_path) as server:
        yield server


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
