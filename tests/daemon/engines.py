"""Running the real engine daemon (``docker-pass engine run``) in tests, and a plugin with state.

The ``snapshot`` plugin reads its data file once, in ``start()``, and serves that snapshot: a
secret added to the file later is known only to instances started afterwards, which is how the
tests tell a warm daemon's answer from an embedded engine's.  Asked for ``hang/…`` it hangs, as
a plugin waiting on a prompt does, until the test releases it (:class:`HungPlugin`).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.remote.client import DaemonClient
from docker_pass.core.remote.front import find_daemon
from tests.support.dists import install_plugin_dist
from tests.support.helpers import EXECUTABLE
from tests.support.processes import reap

if TYPE_CHECKING:
    from collections.abc import Sequence

SNAPSHOT_MODULE = '''
"""A third-party plugin whose secrets are whatever its data file held when it started."""
import json, os
from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.errors import FatalPluginError

def _hang(base):
    # Note the call, then block until someone writes to the release FIFO: an event that
    # another process can set.
    with open(base + ".hangs", "a") as f:
        f.write(f"{os.getpid()}\\n")
    with open(base + ".release") as release:
        release.read()

class SnapshotPlugin:
    name = "snapshot"
    version = "1.0.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    writable = False

    def start(self):
        with open(os.environ["SNAPSHOT_DATA"]) as f:
            self._data = {k: v.encode() for k, v in json.load(f).items()}
        with open(os.environ["SNAPSHOT_DATA"] + ".starts", "a") as f:
            f.write(f"{os.getpid()}\\n")

    def refresh(self):
        with open(os.environ["SNAPSHOT_DATA"] + ".refreshes", "a") as f:
            f.write(f"{os.getpid()}\\n")

    def stop(self): pass
    def storage(self): return "snapshot at start"

    def list(self, pattern):
        return [
            SecretInfo(ID(k), metadata={"kind": "snap"}) for k in self._data if pattern.matches(k)
        ]

    def resolve(self, pattern):
        if pattern.value.startswith("hang/"):
            _hang(os.environ["SNAPSHOT_DATA"])
        if pattern.value.endswith("crash/now"):
            raise FatalPluginError(
                "snapshot broke on purpose; run: docker pass plugins enable snapshot"
            )
        return [
            Envelope(ID(k), v, metadata={"kind": "snap"})
            for k, v in self._data.items() if pattern.matches(k)
        ]
'''


def install_snapshot_plugin(root: Path, data: dict[str, str]) -> dict[str, str]:
    """Write the plugin's dist under ``root``; the environment that makes processes load it."""
    site = install_plugin_dist(
        root / "site",
        "snapshot-plugin",
        "1.0",
        "snapshot",
        "snapshot_plugin_mod",
        "SnapshotPlugin",
        SNAPSHOT_MODULE,
    )
    data_file = root / "snapshot.json"
    data_file.write_text(json.dumps(data))
    return {"PYTHONPATH": str(site), "SNAPSHOT_DATA": str(data_file)}


class HungPlugin:
    """The ``snapshot`` plugin's hang: how many calls entered it, and releasing them."""

    def __init__(self, data_file: Path) -> None:
        self.entries = Path(f"{data_file}.hangs")
        self.release_fifo = Path(f"{data_file}.release")
        os.mkfifo(self.release_fifo, 0o600)

    def entered(self) -> int:
        """Calls that have entered the hang so far (released or not)."""
        return len(self.entries.read_text().split()) if self.entries.exists() else 0

    def wait_entered(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.entered() < count:
            assert time.monotonic() < deadline, f"{self.entered()} of {count} calls hung"
            time.sleep(0.02)

    def release_one(self, timeout: float = 20) -> None:
        """Let the call in the hang return (waiting for one to be there)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.release_fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody reads, no call is in the hang yet
                    raise
                assert time.monotonic() < deadline, "no call came into the hang"
                time.sleep(0.02)
                continue
            os.close(fd)  # the reader sees end of file and returns
            return


class RunningEngine:
    """One ``docker-pass engine run`` process and its log (stderr)."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path, socket: Path) -> None:
        self.proc = proc
        self.log_path = log
        self.socket = socket

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> DaemonClient:
        return DaemonClient(self.socket)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as systemd and ``engine stop`` send; the exit code.  Whatever it started
        and left behind (or the engine itself, if SIGTERM did not end it) is reaped."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            reap(self.proc)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up (the socket file stays behind)."""
        reap(self.proc)


def start_engine(
    log: Path, *args: str, timeout: float = 30, prefix: Sequence[str] = ()
) -> RunningEngine:
    """Start the daemon with the test's environment; return once it answers GetVersion.

    ``prefix``: a launcher that execs the daemon's command line (its pid stays the daemon's).
    """
    handle = log.open("ab")
    proc = subprocess.Popen(
        [*prefix, str(EXECUTABLE), "--debug", "engine", "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=handle,
        env=dict(os.environ),
        start_new_session=True,  # its own session: reaped whole (tests/support/processes.py)
    )
    handle.close()
    deadline = time.monotonic() + timeout
    while True:
        client, reason = find_daemon(timeout=1.0)
        if client is not None:
            path = Path(client.path)
            client.close()
            return RunningEngine(proc, log, path)
        if proc.poll() is not None:
            raise AssertionError(f"engine exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            reap(proc)
            raise AssertionError(
                f"engine did not answer in {timeout} s ({reason}):\n{log.read_text()}"
            )
        time.sleep(0.05)
