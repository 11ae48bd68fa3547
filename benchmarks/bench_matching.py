"""Pattern matching throughput: a compiled pattern over 100,000 IDs of 3-6 components.

Anchor: the naive way, parsing the pattern for every ID and matching component by component
(the algorithm upstream uses), measured in the same run.  Target: >= 1,000,000 IDs/s compiled.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from docker_pass.core import Pattern

PATTERNS = ["**", "docker/auth/**", "*/db/*/password", "**/token"]
COUNT = 100_000
TARGET = 1_000_000
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


def best_rate(
    fn: Callable[[str, list[str]], int], pattern: str, ids: list[str], runs: int
) -> tuple[float, int]:
    best = float("inf")
    found = 0
    for _ in range(runs):
        start = time.perf_counter()
        found = fn(pattern, ids)
        best = min(best, time.perf_counter() - start)
    return len(ids) / best, found


def main() -> int:
    ids = generate_ids(COUNT)
    print(f"{COUNT:,} IDs of 3-6 components; best of 5 (compiled) and 3 (naive) runs")
    header = f"{'pattern':<18} {'matches':>8} {'compiled IDs/s':>16} {'naive IDs/s':>14}"
    print(f"{header} {'ratio':>7}  target")
    for pattern in PATTERNS:
        fast, found = best_rate(compiled, pattern, ids, 5)
        slow, found_naive = best_rate(naive, pattern, ids, 3)
        assert found == found_naive, (pattern, found, found_naive)
        verdict = "ok" if fast >= TARGET else "MISSED"
        row = f"{pattern:<18} {found:>8,} {fast:>16,.0f} {slow:>14,.0f}"
        print(f"{row} {fast / slow:>6.1f}x  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
