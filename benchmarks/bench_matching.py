"""Pattern matching: throughput over 100,000 ordinary IDs, and worst cases on long inputs.

Throughput: a compiled pattern over 100,000 IDs of 3-6 components.  Anchor: the naive way,
parsing the pattern for every ID and matching component by component (the algorithm upstream
uses), measured in the same run; "before" is the regex matcher this project had before the
linear-time rewrite (``benchmarks/_matching_before.py``).  Target: >= 2,000,000 IDs/s.

Worst cases: patterns with many ``*``/``**`` against IDs of hundreds or thousands of components
that almost match, and inclusion/overlap on long inputs.  The "before" column runs the old code
in a subprocess that is killed after ``BEFORE_TIMEOUT`` seconds (a backtracking regex cannot be
interrupted from inside the process); "now" is the best of ``RUNS`` runs of the current code.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import _matching_before as before
from docker_pass.core import Pattern

if TYPE_CHECKING:
    from collections.abc import Callable

PATTERNS = ["**", "docker/auth/**", "*/db/*/password", "**/token"]
#: Not one of the original rows: two ``**``, which the regex can no longer take (see core/ids.py).
EXTRA_PATTERNS = ["**/db/**/password"]
COUNT = 100_000
TARGET = 2_000_000
BEFORE_TIMEOUT = 10.0
RUNS = 5
ROUNDS = 9
NAIVE_ROUNDS = 3
#: ``--before-only``: time only the old code's worst cases (for a tree that still has it).
BEFORE_ONLY = "--before-only" in sys.argv
ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "docker",
    "auth",
    "db",
    "prod",
    "dev",
    "hub",
    "alice",
    "bob",
    "password",
    "token",
    "api-key",
    "ghcr.io",
    "registry:5000",
    "user_name",
    "staging",
    "mcp",
]


def generate_ids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["/".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6))) for _ in range(count)]


def naive_match(pattern: list[str], path: list[str]) -> bool:
    pi = si = 0
    while pi < len(pattern) and si < len(path):
        if pattern[pi] == "**":
            if pi + 1 == len(pattern):
                return True
            return any(
                naive_match(pattern[pi + 1 :], path[si + skip :])
                for skip in range(len(path) - si + 1)
            )
        if pattern[pi] != "*" and pattern[pi] != path[si]:
            return False
        pi += 1
        si += 1
    while pi < len(pattern) and pattern[pi] == "**":
        pi += 1
    return pi == len(pattern) and si == len(path)


def naive(pattern: str, ids: list[str]) -> int:
    return sum(1 for i in ids if naive_match(Pattern.parse(pattern).value.split("/"), i.split("/")))


def compiled(pattern: str, ids: list[str]) -> int:
    return len(Pattern.parse(pattern).filter(ids))


def compiled_before(pattern: str, ids: list[str]) -> int:
    if all(c == "**" for c in pattern.split("/")):
        return len(list(ids))  # the same work as Pattern.filter's shortcut
    fullmatch = before.compile_pattern(pattern).fullmatch
    return len([i for i in ids if fullmatch(i) is not None])


def best_rates(
    fns: list[Callable[[str, list[str]], int]], pattern: str, ids: list[str], rounds: int
) -> list[tuple[float, int]]:
    """Best rate of each function over ``rounds`` interleaved rounds (the machine is shared,
    so interleaving spreads a noisy stretch over all columns instead of one)."""
    best = [float("inf")] * len(fns)
    found = [0] * len(fns)
    for round_ in range(rounds):
        for k, fn in enumerate(fns):
            if fn is naive and round_ >= NAIVE_ROUNDS:
                continue
            start = time.perf_counter()
            found[k] = fn(pattern, ids)
            best[k] = min(best[k], time.perf_counter() - start)
    return [(len(ids) / b, f) for b, f in zip(best, found, strict=True)]


def throughput() -> None:
    ids = generate_ids(COUNT)
    print(
        f"{COUNT:,} IDs of 3-6 components; best of {ROUNDS} interleaved rounds "
        f"(compiled, before) and {NAIVE_ROUNDS} (naive)"
    )
    header = f"{'pattern':<18} {'matches':>8} {'compiled IDs/s':>15} {'before IDs/s':>13}"
    print(f"{header} {'naive IDs/s':>12} {'ratio':>7}  target")
    for pattern in PATTERNS + EXTRA_PATTERNS:
        rates = best_rates([compiled, compiled_before, naive], pattern, ids, ROUNDS)
        (fast, found), (old, found_before), (slow, found_naive) = rates
        assert found == found_naive == found_before, (pattern, found, found_before, found_naive)
        verdict = "n/a (extra row)" if pattern in EXTRA_PATTERNS else "ok"
        if pattern in PATTERNS and fast < TARGET:
            verdict = "MISSED"
        row = f"{pattern:<18} {found:>8,} {fast:>15,.0f} {old:>13,.0f} {slow:>12,.0f}"
        print(f"{row} {fast / slow:>6.1f}x  {verdict}")


def repeat(part: str, times: int) -> str:
    return "/".join([part] * times)


# (operation, label, first, second).  "matches": first is the pattern, second the ID; the
# other operations call ``Pattern(first).<operation>(second)``.
A8 = "a" * 8
#: A 64-character component ("A" in the labels)
A64 = "a" * 64
WORST: list[tuple[str, str, str, str]] = [
    ("matches", "3x**/a, a^400", repeat("**/a", 2) + "/**/b", repeat("a", 400)),
    ("matches", "4x**/a8, a8^100", repeat(f"**/{A8}", 3) + "/**/b", repeat(A8, 100)),
    ("matches", "5x**/a, a^100", repeat("**/a", 4) + "/**/b", repeat("a", 100)),
    ("matches", "5x**/a8, a8^150", repeat(f"**/{A8}", 4) + "/**/b", repeat(A8, 150)),
    ("matches", "3x**/a, a^5000", repeat("**/a", 2) + "/**/b", repeat("a", 5000)),
    ("matches", "50 wildcards, a^5000", repeat("**/*", 25) + "/b", repeat("a", 5000)),
    ("matches", "25x**/a, a^5000", repeat("**/a", 25) + "/b", repeat("a", 5000)),
    ("matches", "**/a^100/b, a^5000", "**/" + repeat("a", 100) + "/b", repeat("a", 5000)),
    ("matches", "(**/a)^500, a^5000", repeat("**/a", 500) + "/b", repeat("a", 5000)),
    # The worst shapes for the new matcher: a 16-component segment (the longest the regex takes)
    # that almost matches at every start, on long components; a 1000-component segment (the
    # automaton, with 1000-bit states).
    (
        "matches",
        "**/A^15/b/**/c, A^5000",
        f"**/{repeat(A64, 15)}/b/**/c",
        repeat(A64, 5000),
    ),
    ("matches", "**/a^999/b, a^5000", "**/" + repeat("a", 999) + "/b", repeat("a", 5000)),
    ("includes", "*/** >= 11x**/x", "*/**", repeat("**/x", 11) + "/**"),
    ("includes", "**/a/*^8 >= 12x**/a", "**/a/" + repeat("*", 8), repeat("**/a", 12) + "/**"),
    ("includes", "**/b >= a^5000", "**/b", repeat("a", 5000)),
    # The worst inclusion found for the new code (about 2^12 states; see core/ids.py _included).
    (
        "includes",
        "**/a/*^12/**>=12x**/a",
        "**/a/" + repeat("*", 12) + "/**",
        repeat("**/a", 12) + "/" + repeat("*", 12) + "/**",
    ),
    ("overlaps", "**/b ~ a^5000", "**/b", repeat("a", 5000)),
    ("overlaps", "50 wildcards ~ a^5000", repeat("**/*", 25) + "/b", repeat("a", 5000)),
    ("narrow", "plugin, 50 wildcards", "docker/mcp/auth/**", repeat("**/*", 25) + "/token"),
    ("narrow", "**/b, a^5000", "**/b", repeat("a", 5000)),
]


def run_now(operation: str, first: str, second: str) -> object:
    pattern = Pattern.parse(first)
    if operation == "matches":
        return pattern.matches(second)
    if operation == "includes":
        return pattern.includes(second)
    if operation == "overlaps":
        return pattern.overlaps(second)
    narrowed = pattern.narrow(second)
    return None if narrowed is None else ("other" if str(narrowed) == second else "self")


def run_before(operation: str, first: str, second: str) -> object:
    if operation == "matches":
        return before.matches(first, second)
    if operation == "includes":
        return before.includes(first, second)
    if operation == "overlaps":
        return before.overlaps(first, second)
    # The old narrow, spelled with the old helpers.
    if before.includes(first, second):
        return "other"
    if before.includes(second, first):
        return "self"
    return "other" if before.overlaps(first, second) else None


def before_worker(index: int) -> None:
    """Run one worst case with the old code and print ``seconds result`` (in a subprocess)."""
    operation, _, first, second = WORST[index]
    start = time.perf_counter()
    try:
        result = run_before(operation, first, second)
    except RecursionError:
        print("RecursionError")
        return
    print(f"{time.perf_counter() - start:.6f} {result}")


def time_before(index: int) -> tuple[str, float | None]:
    """(result, seconds) of the old code on one worst case; seconds is None when it was killed."""
    command = [sys.executable, "-m", "benchmarks.bench_matching", "--before", str(index)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=BEFORE_TIMEOUT, check=True
        )
    except subprocess.TimeoutExpired:
        return "-", None
    out = done.stdout.split()
    if out == ["RecursionError"]:
        return "RecursionError", None
    return out[1], float(out[0])


def time_now(operation: str, first: str, second: str) -> tuple[str, float]:
    best = float("inf")
    result: object = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run_now(operation, first, second)
        best = min(best, time.perf_counter() - start)
    return str(result), best


def worst_cases() -> None:
    print()
    print(
        f"worst cases: now = best of {RUNS} runs; before = old code in a subprocess, "
        f"killed after {BEFORE_TIMEOUT:.0f} s"
    )
    print(
        f"{'operation':<9} {'case':<22} {'now':>7} {'before':>14} {'now ms':>9} "
        f"{'before ms':>11} {'speed-up':>9}"
    )
    for index, (operation, label, first, second) in enumerate(WORST):
        result, now = ("-", float("nan")) if BEFORE_ONLY else time_now(operation, first, second)
        result_before, then = time_before(index)
        if then is None:
            then_text = f"> {BEFORE_TIMEOUT * 1000:,.0f}" if result_before == "-" else "-"
            ratio = f"> {BEFORE_TIMEOUT / now:,.0f}x" if result_before == "-" else "-"
        else:
            then_text = f"{then * 1000:,.2f}"
            ratio = f"{then / now:,.0f}x"
        print(
            f"{operation:<9} {label:<22} {result:>7} {result_before:>14} {now * 1000:>9.3f} "
            f"{then_text:>11} {ratio:>9}"
        )


def main() -> int:
    if not BEFORE_ONLY:
        throughput()
    worst_cases()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--before"]:
        before_worker(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(main())
