"""The engine daemon against the embedded engine, in one run: throughput and p50/p99 latency.

Secrets: 20 items in the age file store (``DOCKER_PASS_STORE=file``), resolved by ID.  Client
processes are ``tests/daemon/load_worker.py`` (the load test's worker) under the regular install
of ``benchmarks/.venv``; every value is checked, so a failing call cannot look fast.

- burst: 5 processes x 100 threads, 1 call each, all released at once (the load test's shape).
  Daemon: one shared client per process.  Embedded: each thread has its own warm engine.
- steady: 5 processes x 1 thread x 100 calls in a row (no queueing; the per-call cost).
- keep-alive: 5 processes x 40 threads, each with its own kept-alive connection, x 25 calls
  (5,000 GetSecrets), and the same shape calling GetVersion: the server's own floor (no engine
  work), so the ratio says what resolving adds to serving.  ``python -m benchmarks
  daemon-burst`` runs this table with external plugins beside it (:mod:`.bench_burst`).
- per command: what one ``docker pass run`` pays besides interpreter start-up and imports:
  find the daemon (connect + GetVersion) and resolve, against build + start an embedded engine
  and resolve.
- per command, slow-start plugin: the same, for IDs served by a plugin whose ``start()`` takes
  0.25 s and whose lookups are instant: a stand-in for a 1Password plugin that signs in and
  fetches the item list at start, which is what the daemon keeps warm.
- CLI: ``docker-pass run -- true`` with one ``se://`` reference, whole process (interpreter,
  imports, daemon check, resolve, child), through the daemon vs ``--no-daemon``.  The daemon's
  client is standard library only (Connect's JSON codec on a plain socket): before it, the
  client imported connectrpc, pyqwest and protobuf, ~0.25 s that made this row ~3x the anchor.

``python -m benchmarks daemon-run`` runs only the CLI row, with more rounds, and the import cost
of the daemon's client on ``run``'s path (and of ``http.client`` on top of it).

The anchor of every row is the embedded engine, measured in the same run; only ratios mean
anything on these shared machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._setup import ROOT, bench_env, compare, regular_install, time_command

if TYPE_CHECKING:
    from collections.abc import Iterator

SECRETS = {f"bench/item{i:02d}": f"value-{i:02d}-" + "x" * 32 for i in range(20)}
BURST = (5, 100, 1)
#: The drop-in burst: 5 processes x 40 kept-alive connections x 25 calls (5,000 calls).
KEEPALIVE = (5, 40, 25)
STEADY = (5, 1, 100)
PER_COMMAND = (5, 1, 20)
SLOW_START = 0.25
WARM_SECRETS = {f"warm/item{i}": f"warm-value-{i}" for i in range(5)}
SLOW_PLUGIN = f'''
"""Stands in for a plugin with a costly start (a 1Password sign-in and item list)."""
import time
from docker_pass.core import ID, Envelope, Pattern, SecretInfo

ITEMS = {WARM_SECRETS!r}

class SlowStartPlugin:
    name = "slow-start"
    version = "1.0.0"
    pattern = Pattern("warm/**")
    configurable = True
    enabled_by_default = True
    writable = False

    def start(self):
        time.sleep({SLOW_START})

    def stop(self): pass
    def storage(self): return "memory"

    def list(self, pattern):
        return [SecretInfo(ID(k)) for k in ITEMS if pattern.matches(k)]

    def resolve(self, pattern):
        return [Envelope(ID(k), v.encode()) for k, v in ITEMS.items() if pattern.matches(k)]
'''


def populate(python: Path, env: dict[str, str]) -> None:
    """Store the secrets with the installed docker-pass (values on stdin, never in argv)."""
    code = (
        "import json, sys\n"
        "from docker_pass.core import ID\n"
        "from docker_pass.core.engine import Engine\n"
        "with Engine.for_plugin('docker-pass') as engine:\n"
        "    for k, v in json.load(sys.stdin).items():\n"
        "        engine.save(ID.parse(k), v.encode(), {})\n"
    )
    subprocess.run(
        [str(python), "-c", code], input=json.dumps(SECRETS).encode(), env=env, check=True
    )


def install_slow_plugin(root: Path) -> str:
    """The slow-start plugin as a dist with an entry point; returns the folder for PYTHONPATH."""
    site = root / "site"
    dist = site / "slow_start-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-start\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[docker_pass.plugins]\nslow-start = slow_start_mod:SlowStartPlugin\n"
    )
    (site / "slow_start_mod.py").write_text(SLOW_PLUGIN)
    return str(site)


def write_ids(path: Path, secrets: dict[str, str]) -> Path:
    """IDs with the SHA-256 of their values, for the workers to check."""
    digests = [[k, hashlib.sha256(v.encode()).hexdigest()] for k, v in secrets.items()]
    path.write_text(json.dumps(digests))
    return path


def run_workers(
    python: Path, env: dict[str, str], mode: str, shape: tuple[int, int, int], ids: Path
) -> dict[str, Any]:
    """Start the worker processes together; merge their results."""
    procs, threads, calls = shape
    workers = [
        subprocess.Popen(
            [
                str(python),
                "-m",
                "tests.daemon.load_worker",
                f"--mode={mode}",
                f"--threads={threads}",
                f"--calls={calls}",
                f"--ids={ids}",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(procs)
    ]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"worker failed to start ({mode}): {line}")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    merged: dict[str, Any] = {"ok": 0, "wrong": 0, "errors": 0, "latencies": [], "wall": 0.0}
    for worker in workers:
        out, _ = worker.communicate(timeout=600)
        doc = json.loads(out.strip().splitlines()[-1])
        merged["ok"] += doc["ok"]
        merged["wrong"] += doc["wrong"]
        merged["errors"] += sum(doc["errors"].values())
        merged["latencies"] += doc["latencies"]
        merged["wall"] = max(merged["wall"], doc["wall"])
    if merged["wrong"] or merged["errors"]:
        raise SystemExit(f"{mode}: {merged['wrong']} wrong values, {merged['errors']} errors")
    return merged


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, path: str, result: dict[str, Any]) -> float:
    throughput = float(result["ok"]) / float(result["wall"])
    p50 = percentile(result["latencies"], 0.50) * 1000
    p99 = percentile(result["latencies"], 0.99) * 1000
    print(f"{label:<36} {path:<9} {result['ok']:>6} {throughput:>10.0f}/s {p50:>9.2f} {p99:>9.2f}")
    return throughput


def wait_for_daemon(python: Path, env: dict[str, str], log: Path) -> None:
    """Until ``find_daemon`` (connect + GetVersion) succeeds under the benchmark's install."""
    deadline = time.monotonic() + 60
    probe = [
        str(python),
        "-c",
        "import sys; from docker_pass.core.remote import find_daemon; "
        "sys.exit(0 if find_daemon(1.0)[0] else 1)",
    ]
    while subprocess.run(probe, env=env, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"the engine did not start:\n{log.read_text()}")
        time.sleep(0.2)


def daemon_env(root: Path, *, pythonpath: str = "") -> dict[str, str]:
    """A private HOME and XDG dirs under ``root``, the file store, a socket in ``root``."""
    home = root / "home"
    extra = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DOCKER_PASS_STORE": "file",
        "DOCKER_PASS_ENGINE_SOCKET": str(root / "engine.sock"),
    }
    if pythonpath:
        extra["PYTHONPATH"] = pythonpath
    return bench_env(extra)


@contextmanager
def running_daemon(exe: str, python: Path, env: dict[str, str], log: Path) -> Iterator[None]:
    """``docker-pass engine run`` under ``env`` until the block ends (then stopped)."""
    with log.open("wb") as handle:
        daemon = subprocess.Popen([exe, "engine", "run"], env=env, stdout=handle, stderr=handle)
    try:
        wait_for_daemon(python, env, log)
        yield
    finally:
        subprocess.run([exe, "engine", "stop"], env=env, capture_output=True, check=False)
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait()


def daemon_cpu_seconds(env: dict[str, str]) -> float:
    """The running daemon's CPU time so far (user + system), from ``/proc/PID/stat``."""
    from docker_pass.core.remote.endpoint import lock_holder

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        holder = lock_holder() or {}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return process_cpu_seconds(int(str(holder["pid"])))


def process_cpu_seconds(pid: int) -> float:
    """Process ``pid``'s CPU time so far (user + system), from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Measured:
    """One row's figures: throughput (calls/s), p99 latency (s), daemon CPU per call (s)."""

    __slots__ = ("cpu", "p99", "throughput")

    def __init__(self, throughput: float, p99: float, cpu: float) -> None:
        self.throughput = throughput
        self.p99 = p99
        self.cpu = cpu


def measured_row(
    label: str, path: str, python: Path, env: dict[str, str], mode: str, ids: Path
) -> Measured:
    """One keep-alive row (:data:`KEEPALIVE`), printed, with the daemon's CPU per call."""
    before = daemon_cpu_seconds(env)
    result = run_workers(python, env, mode, KEEPALIVE, ids)
    cpu = (daemon_cpu_seconds(env) - before) / result["ok"]
    throughput = row(label, path, result)
    return Measured(throughput, percentile(result["latencies"], 0.99), cpu)


def keepalive_table(python: Path, env: dict[str, str], ids: Path) -> tuple[Measured, Measured]:
    """GetSecrets in the keep-alive burst, with GetVersion in the same shape as the floor;
    both rows' figures (GetVersion's first).

    Besides wall-clock throughput (which the clients' own CPU shares), the daemon's CPU time
    per call: it barely depends on what else the machine runs.
    """
    label = "keep-alive: 5 procs x 40 conns x 25"
    version = measured_row(label, "version", python, env, "version", ids)
    secrets = measured_row("", "secrets", python, env, "keepalive", ids)
    ratio = secrets.throughput / version.throughput
    print(f"{'':<36} {'ratio':<9} {'':>6} {ratio:>10.2f}x  (GetSecrets / GetVersion)")
    print(
        f"daemon CPU per call: GetVersion {version.cpu * 1e6:.0f} us, GetSecrets "
        f"{secrets.cpu * 1e6:.0f} us (ratio {version.cpu / secrets.cpu:.2f}); "
        f"one core's ceiling: {1 / secrets.cpu:.0f} GetSecrets/s"
    )
    return version, secrets


def compare_run(exe: str, env: dict[str, str], runs: int) -> None:
    """``docker-pass run -- true`` with one ``se://`` reference: daemon vs ``--no-daemon``."""
    run_env = dict(env, BENCH_REF="se://bench/item00")
    compare(
        "docker-pass run -- true (daemon)",
        lambda: time_command([exe, "run", "--", "true"], run_env, lambda out: True),
        lambda: time_command([exe, "--no-daemon", "run", "--", "true"], run_env, lambda out: True),
        runs=runs,
        anchor_label="docker-pass --no-daemon run",
    )
    print(f"(the daemon served {get_secrets_served(exe, env)} GetSecrets calls)")


def main() -> int:
    bin_dir = regular_install()
    python = bin_dir / "python"
    exe = str(bin_dir / "docker-pass")
    with tempfile.TemporaryDirectory(prefix="dp-bench-daemon-") as tmp:
        root = Path(tmp)
        env = daemon_env(root, pythonpath=install_slow_plugin(root))
        populate(python, env)
        ids = write_ids(root / "ids.json", SECRETS)
        warm_ids = write_ids(root / "warm.json", WARM_SECRETS)
        with running_daemon(exe, python, env, root / "engine.log"):
            print(
                f"{len(SECRETS)} secrets in the age file store; {os.cpu_count()} CPUs; "
                "latencies per call"
            )
            print(
                f"{'shape':<36} {'path':<9} {'calls':>6} {'throughput':>12} "
                f"{'p50 ms':>9} {'p99 ms':>9}"
            )
            keepalive_table(python, env, ids)
            for label, shape, daemon_mode, embedded_mode, which in (
                ("burst: 5 procs x 100 threads x 1", BURST, "daemon", "embedded", ids),
                ("steady: 5 procs x 1 thread x 100", STEADY, "daemon", "embedded", ids),
                ("per command: 5 procs x 20", PER_COMMAND, "daemon-cold", "embedded-cold", ids),
                (
                    "per command, slow start: 5 x 5",
                    (5, 1, 5),
                    "daemon-cold",
                    "embedded-cold",
                    warm_ids,
                ),
            ):
                ours = row(label, "daemon", run_workers(python, env, daemon_mode, shape, which))
                anchor = row("", "embedded", run_workers(python, env, embedded_mode, shape, which))
                print(f"{'':<36} {'ratio':<9} {'':>6} {ours / anchor:>10.2f}x  (daemon / embedded)")
            compare_run(exe, env, runs=15)
    return 0


#: What ``run`` has imported by the time it asks for the daemon's client (so not the client's
#: cost); then the client, then ``http.client`` on top: what building on it would add.
IMPORT_PROBE = """
import json, sys, time
import docker_pass.cli.main, docker_pass.cli.commands.run, docker_pass.cli.commands.engine
import docker_pass.core.references.resolution, docker_pass.core.engine
import docker_pass.core.remote.front
import docker_pass.core.remote.endpoint
start = time.perf_counter()
import docker_pass.core.remote.client
client = time.perf_counter()
import http.client
done = time.perf_counter()
print(json.dumps([client - start, done - client, "http.client" in sys.modules]))
"""


def import_costs(python: Path, env: dict[str, str], rounds: int) -> None:
    """Median import time of the daemon's client on ``run``'s path, and of ``http.client``
    on top of it, each in a fresh interpreter (bytecode cached)."""
    client_times: list[float] = []
    http_times: list[float] = []
    for _ in range(rounds):
        out = subprocess.run(
            [str(python), "-c", IMPORT_PROBE], env=env, capture_output=True, check=True
        )
        client_s, http_s, _ = json.loads(out.stdout)
        client_times.append(client_s)
        http_times.append(http_s)
    client_ms = statistics.median(client_times) * 1000
    http_ms = statistics.median(http_times) * 1000
    print(f"{'import docker_pass.core.remote.client':<44} {client_ms:6.1f} ms  (on run's path)")
    print(f"{'import http.client, after the client':<44} {http_ms:6.1f} ms")


def main_cli() -> int:
    """Only the ``run -- true`` comparison (many rounds) and the client's import cost."""
    bin_dir = regular_install()
    python = bin_dir / "python"
    exe = str(bin_dir / "docker-pass")
    with tempfile.TemporaryDirectory(prefix="dp-bench-daemon-") as tmp:
        root = Path(tmp)
        env = daemon_env(root)
        populate(python, env)
        with running_daemon(exe, python, env, root / "engine.log"):
            compare_run(exe, env, runs=41)
            import_costs(python, env, rounds=41)
    return 0


def get_secrets_served(exe: str, env: dict[str, str]) -> int:
    """The daemon's GetSecrets count, from ``engine status --json``."""
    out = subprocess.run(
        [exe, "engine", "status", "--json"], env=env, capture_output=True, check=False
    )
    doc = json.loads(out.stdout or b"{}")
    return int(doc.get("requests", {}).get("/resolver.v1.ResolverService/GetSecrets", 0))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
