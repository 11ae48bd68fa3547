"""The real ``docker pass ui`` in tmux, in front of a real dockerd and the engine's Docker
proxy: a container made through the proxy is in the secret's "Used by" section, and one made
while the UI runs appears there without a key press (the UI follows the engine's events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.containers.conftest import SECRETS
from tests.tui.tmux_driver import SIZES, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = requires_tmux


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_the_pane_lists_containers_made_through_the_proxy_and_follows_new_ones(
    proxy: Proxy, tmp_path: Path, size: tuple[int, int]
) -> None:
    made = proxy.docker(
        "run", "-d", "--name", "used-a", "-e", "DB=se://db/password", "busybox", "sleep", "600"
    )
    assert made.returncode == 0, made.stderr.decode()
    seen: list[str] = []
    with launch_ui(tmp_path, size=size, arguments=["ui", "--fresh"]) as tmux:
        seen.append(tmux.wait_for(lambda s: "3 secrets" in s, "the listing"))
        tmux.wait_until_still()  # keys sent while the app still starts can be lost
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        tmux.keys("db/password", literal=True)
        tmux.keys("Enter")
        seen.append(tmux.wait_for(lambda s: "used-a (running) DB" in s, "the container"))
        assert "Used by" in seen[-1]
        assert "1 container" in seen[-1]

        # Made while the UI runs: it appears without a key.
        later = proxy.docker(
            "create", "--name", "used-b", "-e", "PW=se://db/password", "busybox", "true"
        )
        assert later.returncode == 0, later.stderr.decode()
        seen.append(tmux.wait_for(lambda s: "used-b (created) PW" in s, "the new container"))
        assert "2 containers" in seen[-1]

        tmux.keys("U")
        seen.append(tmux.wait_for(lambda s: "Containers (2)" in s, "the whole list"))
        assert "se://db/password" in seen[-1]
        tmux.keys("Escape")
        seen.append(tmux.wait_for(lambda s: "Containers (2)" not in s, "the list closed"))
        tmux.keys("q")
        seen.append(tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit"))
        assert "EXITED=0" in seen[-1]
    for value in SECRETS.values():
        assert not any(value in screen for screen in seen), "a value reached the screen"
