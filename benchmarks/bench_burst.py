"""The daemon's keep-alive burst, with external plugins beside the file store, in one run.

``python -m benchmarks daemon-burst``.  Every row is the keep-alive shape of
:mod:`.bench_daemon` (5 processes x 40 kept-alive connections x 25 calls: 5,000 calls), with
every value checked by the workers (``tests/daemon/load_worker.py``):

- GetVersion: the server's own floor (no engine work), the anchor of GetSecrets;
- GetSecrets of the built-in file store (20 secrets, by ID): at least 0.6x the floor's
  throughput, its p99 at most 2x the floor's;
- GetSecrets through external plugins speaking Docker's SDK protocol over yamux, each
  against the file store's row: ``tests/support/sdk_plugin.py`` (our Python one, so the
  row runs everywhere: 20 secrets under ``sdk/**``, values read from a file, never argv),
  and Docker's own ``fixed-plugin`` (built with the Go SDK; ``$DOCKER_PASS_TEST_FIXED_PLUGIN``,
  default ``/work/shared/upstream-sdk/fixed-plugin``; its one secret, ``fixed/hello``) where
  it is there: at least 0.5x.

Each row also gives the CPU time per call of the daemon and of the plugin: less noisy than
throughput on a shared machine, whose load average the first line shows.  Only ratios
within one run mean anything.  Then the ``run -- true`` comparison of :mod:`.bench_daemon`.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._setup import ROOT, regular_install
from benchmarks.bench_daemon import (
    KEEPALIVE,
    SECRETS,
    Measured,
    compare_run,
    daemon_env,
    keepalive_table,
    measured_row,
    populate,
    process_cpu_seconds,
    running_daemon,
    write_ids,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

SDK_PLUGIN = ROOT / "tests" / "support" / "sdk_plugin.py"
FIXED_ENV = "DOCKER_PASS_TEST_FIXED_PLUGIN"
FIXED_DEFAULT = "/work/shared/upstream-sdk/fixed-plugin"
#: The Python plugin's secrets: as many as the file store's, the same size of value.
SDK_SECRETS = {f"sdk/item{i:02d}": f"sdk-value-{i:02d}-" + "y" * 32 for i in range(20)}
FIXED_SECRETS = {"fixed/hello": "world"}
#: Seconds a plugin gets to register.
REGISTER_BOUND = 30.0
#: The goals (issue 25), printed next to each ratio.
SECRETS_GOAL, P99_GOAL, EXTERNAL_GOAL = 0.6, 2.0, 0.5


def fixed_plugin() -> Path | None:
    """Docker's ``fixed-plugin``, if it is there."""
    path = Path(os.environ.get(FIXED_ENV) or FIXED_DEFAULT)
    return path if path.is_file() and os.access(path, os.X_OK) else None


@contextmanager
def external_plugin(
    exe: str, env: dict[str, str], name: str, argv: list[str], log: Path
) -> Iterator[int]:
    """Plugin ``name`` started by hand (it dials the engine socket) until the block ends;
    yields its pid once ``plugins ls`` shows it running."""
    with log.open("wb") as handle:
        plugin = subprocess.Popen(argv, env=env, stdout=handle, stderr=handle)
    try:
        deadline = time.monotonic() + REGISTER_BOUND
        while not _running(exe, env, name):
            if plugin.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"plugin {name} did not register:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield plugin.pid
    finally:
        plugin.terminate()
        try:
            plugin.wait(10)
        except subprocess.TimeoutExpired:
            plugin.kill()
            plugin.wait()


def _running(exe: str, env: dict[str, str], name: str) -> bool:
    argv = [exe, "plugins", "ls", "--json"]
    listed = subprocess.run(argv, env=env, capture_output=True, check=False)
    rows = json.loads(listed.stdout or b"[]") if listed.returncode == 0 else []
    return any(r.get("name") == name and r.get("status") == "running" for r in rows)


def external_row(
    label: str, python: Path, env: dict[str, str], ids: Path, pid: int, anchor: Measured
) -> None:
    """GetSecrets through one external plugin, against the file store's row."""
    before = process_cpu_seconds(pid)
    ours = measured_row(label, "external", python, env, "keepalive", ids)
    procs, threads, calls = KEEPALIVE
    plugin_cpu = (process_cpu_seconds(pid) - before) / (procs * threads * calls)
    ratio = ours.throughput / anchor.throughput
    verdict = "ok" if ratio >= EXTERNAL_GOAL else "MISSED"
    print(
        f"{'':<36} {'ratio':<9} {'':>6} {ratio:>10.2f}x  (/ file store; "
        f"target >= {EXTERNAL_GOAL:g}x: {verdict})"
    )
    print(
        f"{'':<36} CPU per call: daemon {ours.cpu * 1e6:.0f} us, plugin {plugin_cpu * 1e6:.0f} us"
    )


def secrets_rows(python: Path, env: dict[str, str], ids: Path) -> Measured:
    """GetVersion and the file store's GetSecrets, and the goal between them; the latter."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{len(SECRETS)} secrets in the age file store; {os.cpu_count()} CPUs; load {load}")
    print(f"{'shape':<36} {'path':<9} {'calls':>6} {'throughput':>12} {'p50 ms':>9} {'p99 ms':>9}")
    version, secrets = keepalive_table(python, env, ids)
    ratio, p99 = secrets.throughput / version.throughput, secrets.p99 / version.p99
    met = ratio >= SECRETS_GOAL and p99 <= P99_GOAL
    print(
        f"GetSecrets / GetVersion: {ratio:.2f}x, p99 {p99:.2f}x the floor's "
        f"(target >= {SECRETS_GOAL:g}x, p99 <= {P99_GOAL:g}x: {'ok' if met else 'MISSED'})"
    )
    return secrets


def external_rows(
    exe: str, python: Path, env: dict[str, str], root: Path, anchor: Measured
) -> None:
    """GetSecrets through the Python plugin, then Docker's ``fixed-plugin`` (if there)."""
    socket = str(root / "engine.sock")
    values = root / "sdk-secrets.json"
    with open(os.open(values, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        json.dump(SDK_SECRETS, handle)
    sdk_ids = write_ids(root / "sdk-ids.json", SDK_SECRETS)
    argv = [str(python), str(SDK_PLUGIN), "--socket", socket, "--secrets-file", str(values)]
    with external_plugin(exe, env, "sdk-plugin", argv, root / "sdk-plugin.log") as pid:
        external_row("sdk_plugin.py (Python, yamux)", python, env, sdk_ids, pid, anchor)
    fixed = fixed_plugin()
    if fixed is None:
        print(f"(no fixed-plugin at {os.environ.get(FIXED_ENV) or FIXED_DEFAULT}: row skipped)")
        return
    fixed_ids = write_ids(root / "fixed-ids.json", FIXED_SECRETS)
    argv = [str(fixed), "-socket", socket]
    with external_plugin(exe, env, "fixed-plugin", argv, root / "fixed-plugin.log") as pid:
        external_row("fixed-plugin (Docker's Go SDK)", python, env, fixed_ids, pid, anchor)


def main() -> int:
    bin_dir = regular_install()
    python = bin_dir / "python"
    exe = str(bin_dir / "docker-pass")
    with tempfile.TemporaryDirectory(prefix="dp-bench-burst-") as tmp:
        root = Path(tmp)
        env = daemon_env(root)
        populate(python, env)
        ids = write_ids(root / "ids.json", SECRETS)
        with running_daemon(exe, python, env, root / "engine.log"):
            secrets = secrets_rows(python, env, ids)
            external_rows(exe, python, env, root, secrets)
            compare_run(exe, env, runs=15)
    return 0
