"""The Docker API proxy against the engine it forwards to, side by side in one run.

A private dockerd (tests/support/docker_engine.py: Debian's docker.io, vfs, no network, the busybox
image imported) and the engine daemon from the regular install (``benchmarks/.venv``) with its
proxy in front of that dockerd.  Every row runs the real docker CLI, interleaved: through the
proxy (``DOCKER_HOST=unix://<proxy socket>``) and straight to dockerd (the anchor).

- ``docker run --rm --network none busybox true``: create, attach (an upgraded connection),
  start, wait and remove through the proxy; target <= 1.10x.
- the same with ``-e K=se://bench/key`` through the proxy, against ``-e K=<value>`` straight to
  dockerd: what resolving one reference adds to a container's start.
- ``docker ps``: pure pass-through; target <= 1.3x, or at most +5 ms.

Needs root (dockerd); run ``python -m benchmarks docker``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._setup import ROOT, file_store_env, regular_install

VALUE = "bench-value-" + "v" * 40
RUNS = 15
PS_RUNS = 40


def _timed(argv: list[str], env: dict[str, str], expect: bytes) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        raise SystemExit(f"{argv!r} failed: {done.returncode} {done.stderr[-300:]!r}")
    return elapsed


def _row(
    label: str,
    ours: list[str],
    anchor: list[str],
    proxy_env: dict[str, str],
    direct_env: dict[str, str],
    *,
    runs: int,
    expect: bytes = b"",
    target: float,
    slack_ms: float = 0.0,
) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    _timed(ours, proxy_env, expect), _timed(anchor, direct_env, expect)  # warm both paths
    for _ in range(runs):
        mine.append(_timed(ours, proxy_env, expect))
        theirs.append(_timed(anchor, direct_env, expect))
    a, b = statistics.median(mine), statistics.median(theirs)
    ratio = a / b
    ok = ratio <= target or (slack_ms and (a - b) * 1000 <= slack_ms)
    rule = f"<= {target:g}x" + (f" or +{slack_ms:g} ms" if slack_ms else "")
    print(
        f"{label:<46} proxy {a * 1000:7.1f} ms   dockerd {b * 1000:7.1f} ms   "
        f"ratio {ratio:4.2f}x  ({(a - b) * 1000:+6.1f} ms)  target {rule}: "
        f"{'ok' if ok else 'MISSED'}"
    )


def main() -> int:
    if os.geteuid() != 0:
        print("needs root to start a private dockerd")
        return 1
    sys.path.insert(0, str(ROOT))
    from _pytest.outcomes import Skipped

    from tests.support.docker_engine import start_dockerd, stop_dockerd

    bin_dir = regular_install()
    try:
        dockerd, work = start_dockerd()
    except Skipped as exc:
        print(f"cannot start dockerd: {exc}")
        return 1
    home = Path(tempfile.mkdtemp(prefix="dpb-", dir="/tmp"))
    env = file_store_env(home)
    exe = str(bin_dir / "docker-pass")
    subprocess.run([exe, "set", "bench/key"], input=VALUE.encode(), env=env, check=True)
    engine = subprocess.Popen(
        [exe, "engine", "run", "--docker-host", dockerd.host],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = home / "k" / "docker-secrets-engine" / "docker.sock"
    try:
        deadline = time.monotonic() + 60
        while not proxy.exists():
            if engine.poll() is not None or time.monotonic() > deadline:
                print("the engine did not start")
                return 1
            time.sleep(0.05)
        through = dict(env, DOCKER_HOST=f"unix://{proxy}")
        direct = dict(env, DOCKER_HOST=dockerd.host)
        run = ["docker", "run", "--rm", "--network", "none", "busybox"]
        print(f"docker CLI {shutil.which('docker')}; {RUNS} runs each, interleaved; medians")
        _row(
            "docker run --rm busybox true",
            [*run, "true"],
            [*run, "true"],
            through,
            direct,
            runs=RUNS,
            target=1.10,
        )
        show = ["sh", "-c", 'echo "${#K}"']
        resolved = ["docker", "run", "--rm", "--network", "none", "-e"]
        _row(
            "docker run -e K=se://bench/key (vs K=value)",
            [*resolved, "K=se://bench/key", "busybox", *show],
            [*resolved, f"K={VALUE}", "busybox", *show],
            through,
            direct,
            runs=RUNS,
            expect=str(len(VALUE)).encode(),
            target=1.10,
        )
        _row(
            "docker ps",
            ["docker", "ps"],
            ["docker", "ps"],
            through,
            direct,
            runs=PS_RUNS,
            expect=b"CONTAINER ID",
            target=1.3,
            slack_ms=5.0,
        )
    finally:
        engine.terminate()
        engine.wait(timeout=30)
        stop_dockerd(dockerd, work)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
