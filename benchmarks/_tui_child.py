"""The processes ``python -m benchmarks tui`` times: one measurement per fresh interpreter.

``python -m benchmarks._tui_child first-tree SOURCE COUNT FD``
    Start the real :class:`DockerPassApp` headless (``App.run(headless=True)``, which lays out
    and paints every frame as in a terminal) and, once the realm tree first shows secrets and
    has been painted, write ``painted`` to file descriptor ``FD`` and exit at once.  SOURCE is
    ``file`` (the ``docker-pass`` plugin on the age file store the environment points at) or
    ``memory`` (an in-memory plugin: the UI's own cost).  ``empty`` COUNT is the anchor: an
    empty Textual app that reports its first frame the same way.
``python -m benchmarks._tui_child keys MODE COUNT FD``
    Start the app on COUNT in-memory secrets, type MODE's text key by key, and write the
    keystroke latencies (JSON) to FD.

The parent times spawn to the ``painted`` line, and reads the child's peak RSS from ``wait4``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

SIZE = (100, 30)


def _report(fd: int, text: str) -> None:
    os.write(fd, text.encode() + b"\n")


def first_tree(source: str, count: int, fd: int) -> None:
    if source == "empty":
        from textual.app import App as TextualApp
        from textual.widgets import Static

        class EmptyApp(TextualApp[None]):
            def compose(self):  # type: ignore[no-untyped-def]
                yield Static("hello")

            def on_ready(self) -> None:
                self.call_after_refresh(self.done)

            def done(self) -> None:
                _report(fd, "painted")
                os._exit(0)

        EmptyApp().run(headless=True, size=SIZE)
        return

    plugin: type | None = None
    if source == "memory":
        from benchmarks._tui_data import memory_engine, memory_plugin

        plugin = memory_plugin(count=count)
        front = memory_engine(plugin=plugin)
    else:
        from docker_pass.core.remote.front import open_engine

        def front():  # type: ignore[no-untyped-def]
            return open_engine(no_daemon=True)

    from docker_pass.tui import load_app

    load_app()  # the app's modules, loaded as ``docker pass ui`` loads them
    from docker_pass.tui.app import DockerPassApp
    from docker_pass.tui.widgets.realm_tree import RealmTree

    class Timed(DockerPassApp):
        # Textual reads a relative CSS_PATH next to the module of the class that runs.
        CSS_PATH = str(Path(inspect.getfile(DockerPassApp)).parent / str(DockerPassApp.CSS_PATH))

        def listing_changed(self, first: bool) -> None:
            # The app's own handler fills the tree (or schedules it); check after the repaint.
            super().listing_changed(first)
            self.call_after_refresh(self._check)

        def _check(self) -> None:
            tree = self.screen.query_one(RealmTree)
            if not self.listing.loaded or not tree.root.children:
                self.call_after_refresh(self._check)
                return
            built = getattr(plugin, "build_seconds", 0.0)
            setup = getattr(plugin, "setup_seconds", 0.0)
            _report(fd, f"painted {built:.6f} {setup:.6f}")
            os._exit(0)

    Timed(front, poll_seconds=None).run(headless=True, size=SIZE)
    raise SystemExit("the app exited before its tree showed")


def keys(mode: str, count: int, fd: int) -> None:
    from benchmarks._tui_data import memory_engine
    from benchmarks.bench_tui import MODES
    from docker_pass.tui.app import DockerPassApp

    spec = MODES[mode]
    app = DockerPassApp(memory_engine(count=count), poll_seconds=None)
    latencies = asyncio.run(_type(app, spec.enter, spec.typed))
    _report(fd, json.dumps({"latencies": latencies}))


async def _type(app: App[None], enter: tuple[str, ...], typed: str) -> list[float]:
    from textual import events

    from docker_pass.tui.app import DockerPassApp
    from docker_pass.tui.widgets.pattern_bar import PatternBar

    assert isinstance(app, DockerPassApp)
    latencies: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        while not app.listing.loaded:
            await asyncio.sleep(0.005)
        for key in enter:
            await pilot.press(key)
        bar = app.screen.query_one(PatternBar)
        for end in range(1, len(typed) + 1):
            char = typed[end - 1]
            start = time.perf_counter()
            # A key event, as the terminal driver would post it: Input inserts the character,
            # the app previews the new text (inline or in its worker), the tree is rebuilt.
            app.post_message(events.Key(char if char.isalnum() else _key_name(char), char))
            while app.pattern.preview.text != typed[:end] or bar.text != typed[:end]:
                await asyncio.sleep(0.0002)
            latencies.append(time.perf_counter() - start)
            await pilot.pause()  # let the frame paint before the next key, as a person would
    return latencies


def _key_name(char: str) -> str:
    # Textual's key names (textual.keys); "=" is the metadata-typed mode's ("n=1").
    names = {"/": "slash", "*": "asterisk", "-": "minus", ".": "full_stop", " ": "space"}
    names["="] = "equals_sign"
    return names[char]


def main(argv: list[str]) -> None:
    what, arg, count, fd = argv
    if what == "first-tree":
        first_tree(arg, int(count), int(fd))
    elif what == "keys":
        keys(arg, int(count), int(fd))
    else:
        raise SystemExit(f"unknown measurement {what!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
