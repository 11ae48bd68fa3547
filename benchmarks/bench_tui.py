"""The terminal UI: start-up, typing a pattern, and memory, each against an anchor of the same run.

- Start to first painted tree with 1,000 and 10,000 secrets (target <= 1.0 s at 1,000), from
  an in-memory plugin (the UI's own cost) and from the real age file store (what a person
  waits for).  Anchor: an empty Textual app's start to first paint.  Then the whole process
  (spawn, imports, listing, paint) at 1,000; anchor: spawning ``python -c print``.
- Keystroke to updated preview, median over the keys of a typed pattern, with 10,000 and
  100,000 IDs (targets <= 50 ms and <= 200 ms).  Anchor: ``Pattern.filter`` over the same IDs.
- Peak memory (peak RSS of a fresh interpreter) with 100,000 IDs after typing a pattern
  (target <= 200 MB).  Anchor: the same interpreter with no secrets.

The app runs headless (``App.run_test``): it lays out and paints every frame as in a terminal,
without the terminal's own drawing time.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.widgets.pattern_bar import PatternBar

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator

    from docker_pass.core.plugin import Plugin

START_TARGET = 1.0
KEY_TARGETS = {10_000: 0.050, 100_000: 0.200}
MEMORY_TARGET_MB = 200
TYPED = "payments/prod/svc1*"  # typed key by key; the last key makes an invalid pattern
TEAMS = ["payments", "search", "platform", "identity", "data", "mobile", "web", "infra"]
KINDS = ["postgres/password", "redis/url", "api-key", "oauth/token", "tls/key"]


def generate_ids(count: int) -> list[str]:
    """``count`` IDs of 4-5 components over team/env/service realms."""
    envs = ["prod", "staging", "dev"]
    return [f"{TEAMS[i % 8]}/{envs[i // 8 % 3]}/svc{i // 24}/{KINDS[i % 5]}" for i in range(count)]


def memory_plugin(ids: list[str]) -> type:
    """A keychain plugin that lists ``ids`` from memory (the UI's cost, not a store's)."""
    infos = [SecretInfo(ID(i), "docker-pass", MappingProxyType({"n": "1"})) for i in sorted(ids)]

    class MemoryKeychain:
        name = "docker-pass"
        version = "bench"
        pattern = Pattern("**")
        configurable = False
        writable = False

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return "memory"

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return infos

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return []

    return MemoryKeychain


def memory_engine(ids: list[str]) -> Callable[[], Engine]:
    factories: dict[str, Callable[[], Plugin]] = {"docker-pass": memory_plugin(ids)}
    return lambda: Engine(factories=factories)


class EmptyApp(App[None]):
    """The anchor: Textual's own start-up and first paint."""

    def compose(self) -> ComposeResult:
        yield Static("hello")


async def _time_start(make: Callable[[], App[None]], ready: Callable[[App[None]], bool]) -> float:
    start = time.perf_counter()
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        while not ready(app):
            await asyncio.sleep(0.001)
        await pilot.pause()  # one more frame: the tree is on screen
        return time.perf_counter() - start


def time_start(make: Callable[[], App[None]], ready: Callable[[App[None]], bool]) -> float:
    return asyncio.run(_time_start(make, ready))


def tree_ready(app: App[None]) -> bool:
    return isinstance(app, DockerPassApp) and app.listing_loaded


def best_of(runs: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(runs))


@contextmanager
def file_store(count: int) -> Iterator[Callable[[], Engine]]:
    """A real age file store of ``count`` secrets in a temporary data dir."""
    from docker_pass.backends.filestore import FileStore

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="docker-pass-bench-tui-") as root:
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            os.environ[var] = str(Path(root) / var.lower())
        os.environ["DOCKER_PASS_STORE"] = "file"  # noqa: S105 - a store kind, not a secret
        os.environ.pop("DOCKER_PASS_FILE_PASSPHRASE", None)
        store = FileStore()
        for id_ in generate_ids(count):
            store.save(ID(id_), b"value", {"n": "1"})
        specs = {"docker-pass": BUILTIN_PLUGINS["docker-pass"]}
        try:
            yield lambda: Engine(specs=specs)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def bench_start() -> None:
    anchor = best_of(5, lambda: time_start(EmptyApp, lambda app: True))
    print(f"anchor: empty Textual app, start to first paint      {anchor * 1000:8.1f} ms")
    for count in (1_000, 10_000):
        maker = _app_maker(memory_engine(generate_ids(count)))
        ours = best_of(5, partial(time_start, maker, tree_ready))
        _report_start(f"{count:,} secrets (in-memory plugin)", ours, anchor, count)
    for count in (1_000, 10_000):
        with file_store(count) as engine:
            ours = best_of(3, partial(time_start, _app_maker(engine), tree_ready))
        _report_start(f"{count:,} secrets (age file store)", ours, anchor, count)


def bench_cold_start() -> None:
    """The whole process: spawn, import Textual and the app, list, paint the tree."""

    def spawn(args: list[str], marker: str) -> float:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        start = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, text=True, env=env
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() == marker:
                    break
            elapsed = time.perf_counter() - start
        return elapsed

    anchor = min(spawn(["-c", "print('up')"], "up") for _ in range(5))
    child = ["-m", "benchmarks.bench_tui", "--first-tree", "1000"]
    spawn(child, "painted")  # once to write bytecode
    ours = min(spawn(child, "painted") for _ in range(5))
    verdict = f"target <= {START_TARGET:g} s: {'ok' if ours <= START_TARGET else 'MISSED'}"
    print(
        f"whole process, spawn to first tree, 1,000 secrets  {ours * 1000:8.1f} ms   "
        f"anchor: python -c print {anchor * 1000:6.1f} ms   {ours / anchor:5.2f}x   {verdict}"
    )


def first_tree_child(count: int) -> None:
    """In a fresh interpreter: run the app until its tree is painted, then say so."""

    async def run() -> None:
        app = DockerPassApp(memory_engine(generate_ids(count)), poll_seconds=None)
        async with app.run_test(size=(100, 30)) as pilot:
            while not app.listing_loaded:
                await asyncio.sleep(0.001)
            await pilot.pause()
            print("painted", flush=True)

    asyncio.run(run())


def _app_maker(engine: Callable[[], Engine]) -> Callable[[], App[None]]:
    return lambda: DockerPassApp(engine, poll_seconds=None)


def _report_start(label: str, seconds: float, anchor: float, count: int) -> None:
    verdict = ""
    if count == 1_000:
        verdict = f"  target <= {START_TARGET:g} s: {'ok' if seconds <= START_TARGET else 'MISSED'}"
    print(
        f"start to first tree, {label:<32} {seconds * 1000:8.1f} ms  "
        f"{seconds / anchor:5.2f}x{verdict}"
    )


async def _keystrokes(count: int) -> list[float]:
    app = DockerPassApp(memory_engine(generate_ids(count)), poll_seconds=None)
    latencies: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.listing_loaded:
            await asyncio.sleep(0.005)
        await pilot.press("slash")
        bar = app.screen.query_one(PatternBar)
        for end in range(1, len(TYPED) + 1):
            char = TYPED[end - 1]
            start = time.perf_counter()
            # A key event, as the terminal driver would post it: Input inserts the character,
            # the app previews the new text (inline or in its worker), the tree is rebuilt.
            app.post_message(events.Key(char if char.isalnum() else _key_name(char), char))
            while app.preview.text != TYPED[:end] or bar.text != TYPED[:end]:
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - start)
            await pilot.pause()  # let the frame paint before the next key, as a person would
    return latencies


def _key_name(char: str) -> str:
    return {"/": "slash", "*": "asterisk"}[char]


def bench_keystrokes() -> None:
    for count, target in KEY_TARGETS.items():
        ids = generate_ids(count)
        pattern = Pattern.parse("payments/prod/**")
        filter_times = []
        for _ in range(7):
            start = time.perf_counter()
            pattern.filter(ids)
            filter_times.append(time.perf_counter() - start)
        anchor = statistics.median(filter_times)
        latencies = asyncio.run(_keystrokes(count))
        median = statistics.median(latencies)
        worst = max(latencies)
        verdict = "ok" if median <= target else "MISSED"
        print(
            f"keystroke to preview, {count:>7,} IDs: median {median * 1000:6.1f} ms "
            f"(worst {worst * 1000:6.1f} ms over {len(latencies)} keys)   "
            f"anchor Pattern.filter {anchor * 1000:6.1f} ms   {median / anchor:5.2f}x   "
            f"target <= {target * 1000:g} ms: {verdict}"
        )


def peak_memory_child(count: int) -> None:
    """In a fresh interpreter: start the app on ``count`` IDs, type, print max RSS in MB."""

    async def run() -> None:
        app = DockerPassApp(memory_engine(generate_ids(count)), poll_seconds=None)
        async with app.run_test(size=(100, 30)) as pilot:
            while not app.listing_loaded:
                await asyncio.sleep(0.005)
            await pilot.press("slash")
            app.screen.query_one(PatternBar).set_text("payments/prod/**")
            while app.preview.text != "payments/prod/**":
                await asyncio.sleep(0.005)
            await pilot.pause()

    asyncio.run(run())
    print(json.dumps({"peak_mb": _peak_rss_kb() / 1024}))


def _peak_rss_kb() -> int:
    """This process's peak resident memory, in kB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``fork`` and
    ``exec``, so a child would report its parent's peak if that was larger.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS


def bench_memory() -> None:
    def peak(count: int) -> float:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_tui", "--peak-memory", str(count)],
            check=True,
            capture_output=True,
            text=True,
        )
        return float(json.loads(out.stdout.splitlines()[-1])["peak_mb"])

    anchor = peak(0)
    ours = peak(100_000)
    verdict = "ok" if ours <= MEMORY_TARGET_MB else "MISSED"
    print(
        f"peak memory, 100,000 IDs: {ours:6.1f} MB   anchor (no secrets) {anchor:6.1f} MB   "
        f"+{ours - anchor:5.1f} MB   target <= {MEMORY_TARGET_MB} MB: {verdict}"
    )


def main() -> int:
    bench_start()
    bench_cold_start()
    bench_keystrokes()
    bench_memory()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak-memory"]:
        peak_memory_child(int(sys.argv[2]))
        raise SystemExit(0)
    if sys.argv[1:2] == ["--first-tree"]:
        first_tree_child(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(main())
