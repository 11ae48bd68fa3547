"""Start-up of the keychain verbs in the README's install mode, before and after, in one run.

Times ``docker-pass get ID`` on the Secret Service (a private gnome-keyring) and on the file
store, and ``docker-pass run -- true`` with one reference, each installed the way the README's
commands install it (``scripts/install``: editable, setuptools' strict mode, in
``benchmarks/.venv-editable``), and an earlier revision (``BENCH_BEFORE``, default: the last
commit before the strict mode) installed the way its own scripts did (editable with setuptools'
default import hook, in ``benchmarks/.venv-before``).  Anchors measured in the same run,
interleaved with ours: ``secret-tool lookup`` for the same item, and the floor ``python -c
"import argparse, jeepney.io.blocking"`` (the interpreter plus the two libraries ``get`` needs,
doing nothing) from the same venv.  Targets: ``get`` <= 1.3x the floor, ``run -- true`` with one
reference <= 2.5x the floor.  Then ``-X importtime`` of ``get`` before and after: the modules
it imports beyond the floor's, by their own time.

Bytecode is written as on a person's machine (``PYTHONDONTWRITEBYTECODE``, set on these
machines, is dropped for the timed commands: it would recompile every module on every run).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._setup import BENCH_VENV, ROOT, bench_env, private_keyring, time_command

if TYPE_CHECKING:
    from collections.abc import Callable

#: The last commit before the README's install became strict (override: BENCH_BEFORE=<rev>).
DEFAULT_BEFORE = "1d3acd5"
AFTER_VENV = BENCH_VENV.with_name(".venv-editable")
BEFORE_VENV = BENCH_VENV.with_name(".venv-before")
#: Where the earlier revision's source lives: an editable install needs its files to stay.
BEFORE_SOURCE = ROOT / "benchmarks" / ".cache" / "before-source"
RUNS = 31
IMPORTTIME_RUNS = 9
TARGETS = {"get": 1.3, "run": 2.5}
FLOOR = "floor: python + argparse + jeepney"
LOOKUP = ["secret-tool", "lookup", "service:group", "com.docker.docker-pass"]
LOOKUP += ["service:name", "docker-pass-cli", "id"]
ITEM = "bench/realm0/item0000"
FLOOR_CODE = "import argparse, jeepney.io.blocking"


def readme_install() -> Path:
    """This tree installed as the README's commands install it (``scripts/install``); bin dir."""
    env = dict(os.environ, VENV=str(AFTER_VENV))
    subprocess.run([str(ROOT / "scripts" / "install")], check=True, env=env)
    return AFTER_VENV / "bin"


def before_install(revision: str) -> Path:
    """``revision`` installed editable, as its ``scripts/test`` did (setuptools' default mode:
    an import hook), from a copy of its files kept in ``benchmarks/.cache``; bin dir."""
    python = BEFORE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BEFORE_VENV)], check=True)
    marker = BEFORE_SOURCE / ".revision"
    if not marker.exists() or marker.read_text().strip() != revision:
        subprocess.run(["rm", "-rf", str(BEFORE_SOURCE)], check=True)
        BEFORE_SOURCE.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(BEFORE_SOURCE)], input=archive, check=True)
        marker.write_text(revision)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", str(BEFORE_SOURCE)], check=True)
    return BEFORE_VENV / "bin"


def medians(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    """Median wall time of each command, runs interleaved so that noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        command()  # warm caches (and write bytecode)
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(command())
    return {name: statistics.median(values) for name, values in times.items()}


def table(title: str, results: dict[str, float], anchors: list[str]) -> None:
    print(f"\n{title}")
    header = f"{'command':<46} {'median':>9}" + "".join(f"  {'vs ' + a[:20]:>22}" for a in anchors)
    print(header)
    for name, seconds in results.items():
        cells = "".join(f"  {seconds / results[a]:21.2f}x" for a in anchors)
        print(f"{name:<46} {seconds * 1000:7.1f} ms{cells}")


def verdicts(results: dict[str, float], rows: dict[str, str]) -> None:
    """Each target's ratio against the floor, ok or MISSED."""
    for verb, row in rows.items():
        ratio = results[row] / results[FLOOR]
        target = TARGETS[verb]
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"{verb} vs floor: {ratio:.2f}x; target <= {target}x: {verdict}")


def modules_of(python: Path, code: str, env: dict[str, str]) -> set[str]:
    """The modules ``code`` leaves in ``sys.modules``."""
    out = subprocess.run(
        [str(python), "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def import_times(argv: list[str], env: dict[str, str], floor: set[str]) -> dict[str, int]:
    """Self time (us, the least of several runs) of each module ``argv`` imports that the floor
    does not."""
    best: dict[str, int] = defaultdict(lambda: 10**9)
    traced = dict(env, PYTHONPROFILEIMPORTTIME="1")
    for _ in range(IMPORTTIME_RUNS):
        result = subprocess.run(argv, env=traced, capture_output=True, text=True, check=False)
        for line in result.stderr.splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
            if found and found.group(2) not in floor:
                best[found.group(2)] = min(best[found.group(2)], int(found.group(1)))
    return dict(best)


def importtime_report(label: str, times: dict[str, int], top: int = 12) -> None:
    total = sum(times.values()) / 1000
    print(
        f"\n-X importtime of get, {label}: {len(times)} modules beyond the floor's, {total:.1f} ms"
    )
    for name, micros in sorted(times.items(), key=lambda item: -item[1])[:top]:
        print(f"  {micros / 1000:6.2f} ms  {name}")


def main() -> int:
    before_rev = os.environ.get("BENCH_BEFORE", DEFAULT_BEFORE)
    after_bin = readme_install()
    before_bin = before_install(before_rev)
    floor_argv = [str(after_bin / "python"), "-c", FLOOR_CODE]
    print(f"before = {before_rev} (editable, import hook), after = this tree (scripts/install:")
    print(f"editable, strict mode); {RUNS} interleaved runs, medians")

    def cmd(
        argv: list[str], env: dict[str, str], check: Callable[[bytes], bool]
    ) -> Callable[[], float]:
        return lambda: time_command(argv, env, check)

    masked = lambda out: b"Value:" in out  # noqa: E731
    anything = lambda out: True  # noqa: E731

    with private_keyring() as keyring_env:
        env = bench_env(keyring_env)
        env.pop("DOCKER_PASS_STORE", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [str(after_bin / "docker-pass"), "set", ITEM], input=b"value-0", env=env, check=True
        )
        run_env = dict(env, BENCH_REF=f"se://{ITEM}")
        results = medians(
            {
                FLOOR: cmd(floor_argv, env, anything),
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
        table("Secret Service (private gnome-keyring)", results, [FLOOR, "secret-tool lookup"])
        verdicts(
            results,
            {
                "get": "get (Secret Service), after",
                "run": "run -- true, 1 ref (Secret Service), after",
            },
        )
        floor_modules = modules_of(after_bin / "python", FLOOR_CODE, env)
        for label, bin_dir in (("before", before_bin), ("after", after_bin)):
            times = import_times([str(bin_dir / "docker-pass"), "get", ITEM], env, floor_modules)
            importtime_report(label, times)

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
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [str(after_bin / "docker-pass"), "set", ITEM], input=b"value-0", env=env, check=True
        )
        results = medians(
            {
                FLOOR: cmd(floor_argv, env, anything),
                "get (file store), before": cmd(
                    [str(before_bin / "docker-pass"), "get", ITEM], env, masked
                ),
                "get (file store), after": cmd(
                    [str(after_bin / "docker-pass"), "get", ITEM], env, masked
                ),
            },
            RUNS,
        )
        table("File store (age, identity file)", results, [FLOOR])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
