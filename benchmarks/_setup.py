"""What the command-line benchmarks share: a regular install and a private gnome-keyring.

The benchmarks time ``docker-pass`` as a user gets it from ``pip install``: a regular (not
editable) install with compiled bytecode, in ``benchmarks/.venv``.  The development install's
editable import hook alone costs ~15 ms of start-up, and ``PYTHONDONTWRITEBYTECODE`` (set on
these machines) would recompile every module on every run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / "benchmarks" / ".venv"


def regular_install() -> Path:
    """Install the working tree (not editable) into ``benchmarks/.venv``; return its bin dir."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--force-reinstall",
            "--no-deps",
            str(ROOT),
        ],
        check=True,
        env=env,
    )
    # Dependencies once (kept between runs).
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        check=True,
        env=env,
    )
    subprocess.run(
        [str(python), "-m", "compileall", "-q", str(BENCH_VENV / "lib")], check=False, env=env
    )
    return BENCH_VENV / "bin"


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the timed commands run in (bytecode cache on)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


def file_store_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """:func:`bench_env` with a private home under ``home`` (the file store, no abstract
    socket) and ``extra``, and no Docker endpoint of the person's: the commands talk to the
    benchmark's own engine, dockerd or server."""
    env = bench_env(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "c"),
            "XDG_DATA_HOME": str(home / "d"),
            "XDG_STATE_HOME": str(home / "s"),
            "XDG_CACHE_HOME": str(home / "k"),
            "DOCKER_CONFIG": str(home / "docker"),
            "DOCKER_PASS_STORE": "file",
            "DOCKER_PASS_ENGINE_ABSTRACT_SOCKET": "off",
            **(extra or {}),
        }
    )
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    return env


@contextmanager
def private_keyring() -> Iterator[dict[str, str]]:
    """A private D-Bus with gnome-keyring; yields the client environment."""
    sys.path.insert(0, str(ROOT))
    from tests.support.keyring_session import missing_tools, start_keyring_session

    missing = missing_tools()
    if missing:
        raise SystemExit(
            f"needs gnome-keyring, dbus and secret-tool; missing: {', '.join(missing)}"
        )
    with tempfile.TemporaryDirectory(prefix="docker-pass-bench-") as root:
        bus = start_keyring_session(Path(root))
        try:
            env = bus.client_env()
            env["HOME"] = bus.env["HOME"]
            for key in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
                env[key] = bus.env[key]
            env["XDG_STATE_HOME"] = str(Path(bus.env["HOME"]) / ".local/state")
            yield env
        finally:
            bus.stop()


def time_command(argv: Sequence[str], env: dict[str, str], check: Callable[[bytes], bool]) -> float:
    """Wall time of one run of ``argv`` (output checked, so a failing run cannot look fast)."""
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or not check(result.stdout):
        raise SystemExit(f"{argv!r} failed: {result.returncode} {result.stderr[-300:]!r}")
    return elapsed


def compare(
    label: str,
    ours: Callable[[], float],
    anchor: Callable[[], float],
    *,
    runs: int,
    target: float | None = None,
    anchor_label: str,
) -> None:
    """Interleave runs of ours and the anchor; print medians and the ratio."""
    ours_times: list[float] = []
    anchor_times: list[float] = []
    ours(), anchor()  # warm caches (page cache, keyring)
    for _ in range(runs):
        ours_times.append(ours())
        anchor_times.append(anchor())
    a = statistics.median(ours_times)
    b = statistics.median(anchor_times)
    ratio = a / b
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target:g}x: {'ok' if ratio <= target else 'MISSED'}"
    ours_text = f"{label:<34} {a * 1000:8.1f} ms"
    anchor_text = f"{anchor_label:<34} {b * 1000:8.1f} ms"
    print(f"{ours_text}   {anchor_text}   ratio {ratio:4.2f}x{verdict}")
