"""The filter field, mode by mode: keystroke to updated tree, median over the typed keys.

Each mode starts from a text already in the field (so every timed key stays in that mode) and
types a few keys, read as they are typed (the last term as a prefix, issue 24), with 10,000 and
100,000 IDs (targets <= 10 ms and <= 40 ms median).  Anchor: ``Pattern.filter`` over the same
IDs, as in ``bench_tui``.  Then the tree opening many results to a full screen (done once typing
pauses, not per key), and the command palette's first pass (``palette_candidates``) for a few
queries at 100,000 IDs, and typed on key by key.

Run: ``python -m benchmarks.bench_filter``.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual import events

from benchmarks.bench_tui import generate_ids, memory_engine
from docker_pass.core.ids import Pattern
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.commands import SECRET_CANDIDATES
from docker_pass.tui.model.search import palette_candidates, palette_matches
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree

TARGETS = {10_000: 0.010, 100_000: 0.040}
#: mode -> (text already in the field, keys typed one by one)
MODES = {
    "prefix": ("payments/", "prod/svc1"),
    "search": ("", "svc12"),
    # Typed, a pattern's last component reads as a prefix (``**/s`` keeps ``**/s…/**``).
    "pattern": ("**/", "svc12"),
    "pattern-mid": ("payments/*/", "svc1/*"),
    "pattern-key": ("*/", "prod/svc1/**"),
    # Typed, a metadata value reads as a prefix too; a word no ID holds may start a key.
    "metadata": ("n=", "1"),
    "meta-key": ("", "n=1"),
}
KEY_NAMES = {"/": "slash", "*": "asterisk", "=": "equals_sign"}


async def _keystrokes(count: int, start_text: str, keys: str) -> list[float]:
    app = DockerPassApp(memory_engine(generate_ids(count)), poll_seconds=None)
    latencies: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.listing.loaded:
            await asyncio.sleep(0.005)
        await pilot.press("slash")
        bar = app.screen.query_one(PatternBar)
        bar.set_text(start_text)
        while app.pattern.preview.text != start_text:
            await asyncio.sleep(0.001)
        await pilot.pause()
        typed = start_text
        for char in keys:
            typed += char
            start = time.perf_counter()
            # A key event as the terminal driver posts it; done once the app has previewed the
            # new text and rebuilt the tree (both happen before the app's preview is replaced).
            app.post_message(events.Key(KEY_NAMES.get(char, char), char))
            while app.pattern.preview.text != typed or bar.text != typed:
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - start)
            await pilot.pause()  # let the frame paint before the next key
    return latencies


async def _fill(count: int, text: str) -> float:
    """Seconds the tree takes to open a filter's many results until the screen is full (done
    once typing pauses, not on every key)."""
    app = DockerPassApp(memory_engine(generate_ids(count)), poll_seconds=None)
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.listing.loaded:
            await asyncio.sleep(0.005)
        await pilot.press("slash")
        app.screen.query_one(PatternBar).set_text(text)
        while app.pattern.preview.text != text:
            await asyncio.sleep(0.001)
        await pilot.pause()
        tree = app.screen.query_one(RealmTree)
        assert tree.fill_pending
        start = time.perf_counter()
        tree.fill_now()
        return time.perf_counter() - start


def bench_fill() -> None:
    text = "payments/prod/svc1"
    for count in TARGETS:
        anchor = _anchor(generate_ids(count))
        seconds = asyncio.run(_fill(count, text))
        print(
            f"fill    {count:>7,} IDs: {seconds * 1000:6.1f} ms to open {text!r}'s results "
            f"to a full screen, once typing pauses   anchor {anchor * 1000:5.1f} ms  "
            f"{seconds / anchor:5.2f}x"
        )


def _anchor(ids: list[str]) -> float:
    pattern = Pattern.parse("payments/prod/**")
    times = []
    for _ in range(7):
        start = time.perf_counter()
        pattern.filter(ids)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_modes() -> None:
    for count, target in TARGETS.items():
        anchor = _anchor(generate_ids(count))
        for mode, (start_text, keys) in MODES.items():
            latencies = asyncio.run(_keystrokes(count, start_text, keys))
            median = statistics.median(latencies)
            verdict = "ok" if median <= target else "MISSED"
            print(
                f"{mode:<8} {count:>7,} IDs: median {median * 1000:6.1f} ms "
                f"(worst {max(latencies) * 1000:6.1f} ms, {len(latencies)} keys)   "
                f"anchor {anchor * 1000:5.1f} ms  {median / anchor:5.2f}x   "
                f"target <= {target * 1000:g} ms: {verdict}"
            )


def bench_palette() -> None:
    folded = [i.casefold() for i in sorted(generate_ids(100_000))]
    for query in ("a", "pay", "svc123tok", "zzz"):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            palette_candidates(folded, query, SECRET_CANDIDATES)
            times.append(time.perf_counter() - start)
        print(
            f"palette first pass, 100,000 IDs, {query!r:<12} median "
            f"{statistics.median(times) * 1000:6.1f} ms (in a thread: the UI keeps running)"
        )
    # Typed on in one palette: each query searches only what the one before it found.
    found = palette_matches(folded, "p")
    times = []
    for end in range(2, len("paysvc12") + 1):
        start = time.perf_counter()
        found = palette_matches(folded, "paysvc12"[:end], found)
        palette_candidates(folded, "paysvc12"[:end], SECRET_CANDIDATES, found)
        times.append(time.perf_counter() - start)
    print(
        f"palette first pass, 100,000 IDs, typing 'paysvc12' on: median "
        f"{statistics.median(times) * 1000:6.1f} ms a key"
    )


def main() -> int:
    bench_modes()
    bench_fill()
    bench_palette()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
