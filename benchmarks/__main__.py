"""Run the benchmarks: ``python -m benchmarks [NAME…]`` (names: see ``--list``).

Each benchmark prints its figures next to an anchor measured in the same run, as a ratio;
machines here are shared and noisy, so only ratios within one run mean anything.
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "matching": "benchmarks.bench_matching",
    "keychain": "benchmarks.bench_keychain",
    "tui": "benchmarks.bench_tui",
    "daemon": "benchmarks.bench_daemon",
    "daemon-run": "benchmarks.bench_daemon:main_cli",
    "daemon-burst": "benchmarks.bench_burst",
    "tui-latency": "benchmarks.bench_feed",
    "startup": "benchmarks.bench_startup",
    "docker": "benchmarks.bench_docker",
    "vault": "benchmarks.bench_vault",
    "uses": "benchmarks.bench_uses",
    "scan": "benchmarks.bench_scan",
    "mask": "benchmarks.bench_mask",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    args = parser.parse_args()
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 1
    for name in names:
        module_name, _, function = BENCHMARKS[name].partition(":")
        module = importlib.import_module(module_name)
        print(f"== {name}")
        code: int = getattr(module, function or "main")()
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
