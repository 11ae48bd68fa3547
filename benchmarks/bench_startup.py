"""Start-up of the keychain verbs, before and after a change, in one run.

Times ``docker-pass get ID`` on the Secret Service (a private gnome-keyring) and on the file
store, and ``docker-pass run -- true`` with one reference, for this tree and for an earlier
revision (``BENCH_BEFORE``, default: the last commit of the first wave), each a regular install.
Anchors measured in the same run, interleaved with ours: ``secret-tool lookup`` for the same
item, and the floor ``python -c "import argparse, jeepney.io.blocking"`` (the interpreter plus
the two libraries ``get`` needs, doing nothing).  Target: ``get`` <= 1.3x the floor.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._setup import (
    BENCH_VENV,
    ROOT,
    bench_env,
    private_keyring,
    regular_install,
    time_command,
)

if TYPE_CHECKING:
    from collections.abc import Callable

#: The first wave's last commit on main (override with BENCH_BEFORE=<revision>).
DEFAULT_BEFORE = "0daa28b"
BEFORE_VENV = BENCH_VENV.with_name(".venv-before")
RUNS = 31
TARGET_VS_FLOOR = 1.3
LOOKUP = ["secret-tool", "lookup", "service:group", "com.docker.docker-pass"]
LOOKUP += ["service:name", "docker-pass-cli", "id"]
ITEM = "bench/realm0/item0000"


def install_revision(revision: str) -> Path:
    """A regular install of ``revision`` (from ``git archive``) in its own venv; its bin dir."""
    python = BEFORE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BEFORE_VENV)], check=True)
    env = bench_env()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--force-reinstall", "--no-deps", tmp], check=True, env=env)
        subprocess.run([*pip, tmp], check=True, env=env)
    subprocess.run(
        [str(python), "-m", "compileall", "-q", str(BEFORE_VENV / "lib")], check=False, env=env
    )
    return BEFORE_VENV / "bin"


def medians(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    """Median wall time of each command, runs interleaved so that noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        command()  # warm caches
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(command())
    return {name: statistics.median(values) for name, values in times.items()}


def table(title: str, results: dict[str, float], anchors: list[str]) -> None:
    print(f"\n{title}")
    header = f"{'command':<44} {'median':>9}" + "".join(f"  {'vs ' + a:>22}" for a in anchors)
    print(header)
    for name, seconds in results.items():
        cells = "".join(f"  {seconds / results[a]:21.2f}x" for a in anchors)
        print(f"{name:<44} {seconds * 1000:7.1f} ms{cells}")


def main() -> int:
    before_rev = os.environ.get("BENCH_BEFORE", DEFAULT_BEFORE)
    after_bin = regular_install()
    before_bin = install_revision(before_rev)
    floor_argv = [str(after_bin / "python"), "-c", "import argparse, jeepney.io.blocking"]
    print(f"before = {before_rev}, after = this tree; {RUNS} interleaved runs, medians")

    def cmd(
        argv: list[str], env: dict[str, str], check: Callable[[bytes], bool]
    ) -> Callable[[], float]:
        return lambda: time_command(argv, env, check)

    masked = lambda out: b"Value:" in out  # noqa: E731
    anything = lambda out: True  # noqa: E731

    with private_keyring() as keyring_env:
        env = bench_env(keyring_env)
        env.pop("DOCKER_PASS_STORE", None)
        subprocess.run(
            [str(after_bin / "docker-pass"), "set", ITEM],
            input=b"value-0",
            env=env,
            check=True,
        )
        run_env = dict(env, BENCH_REF=f"se://{ITEM}")
        results = medians(
            {
                "floor: python + argparse + jeepney": cmd(floor_argv, env, anything),
                "secret-tool lookup": cmd([*LOOKUP, ITEM], env, lambda out: out == b"value-0"),
                "get (Secret Service), before": cmd(
                    [str(before_bin / "docker-pass"), "get", ITEM], env, masked
                ),
                "get (Secret Service), after": cmd(
                    [str(after_bin / "docker-pass"), "get", ITEM], env, masked
                ),
                "run -- true, 1 ref (Secret Service), before": cmd(
                    [str(before_bin / "docker-pass"), "run", "--", "true"], run_env, anything
                ),
                "run -- true, 1 ref (Secret Service), after": cmd(
                    [str(after_bin / "docker-pass"), "run", "--", "true"], run_env, anything
                ),
            },
            RUNS,
        )
        table(
            "Secret Service (private gnome-keyring)",
            results,
            ["floor: python + argparse + jeepney", "secret-tool lookup"],
        )
        get_ratio = (
            results["get (Secret Service), after"] / results["floor: python + argparse + jeepney"]
        )
        verdict = "ok" if get_ratio <= TARGET_VS_FLOOR else "MISSED"
        print(f"get vs floor: {get_ratio:.2f}x; target <= {TARGET_VS_FLOOR}x: {verdict}")

    with tempfile.TemporaryDirectory(prefix="docker-pass-bench-") as home:
        env = bench_env(
            {
                "HOME": home,
                "XDG_DATA_HOME": f"{home}/data",
                "XDG_CONFIG_HOME": f"{home}/config",
                "XDG_STATE_HOME": f"{home}/state",
                "XDG_CACHE_HOME": f"{home}/cache",
                "DOCKER_PASS_STORE": "file",
            }
        )
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        subprocess.run(
            [str(after_bin / "docker-pass"), "set", ITEM], input=b"value-0", env=env, check=True
        )
        results = medians(
            {
                "floor: python + argparse + jeepney": cmd(floor_argv, env, anything),
                "get (file store), before": cmd(
                    [str(before_bin / "docker-pass"), "get", ITEM], env, masked
                ),
                "get (file store), after": cmd(
                    [str(after_bin / "docker-pass"), "get", ITEM], env, masked
                ),
            },
            RUNS,
        )
        table("File store (age, identity file)", results, ["floor: python + argparse + jeepney"])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
