"""A third-party plugin that is slow on purpose, installed through an entry point, and a server
that drips its answer.

``laggard`` is asked like any plugin; an ID or pattern with a component ``hang`` makes the call
never return, one with ``drip`` makes it read :class:`DripServer`'s endless answer a byte at a
time (each byte well within its socket's timeout, as a server that sends one byte every few
seconds), one with ``crash`` raises a fatal error; ``$LAGGARD_START=hang`` makes its start
hang.  Anything else answers at once.  Every slow call writes a line to ``$LAGGARD_LOG`` when
it starts, so a test waits for it (:class:`LaggardCalls`).  It is not ``concurrent``: one
call at a time, as a plugin that says nothing is called.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

from tests.support.accepting import serve_each
from tests.support.dists import install_plugin_dist

if TYPE_CHECKING:
    from pathlib import Path

LAGGARD_MODULE = '''
"""A third-party plugin that is slow on purpose (docker-pass's tests)."""
import os, socket, time
from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.errors import FatalPluginError, SecretNotFoundError
from docker_pass.core.plugin import READ_WRITE

DATA = {"slow/ok": b"laggard-ok", "team/shared": b"laggard-shared"}

def _note(what):
    with open(os.environ["LAGGARD_LOG"], "a") as f:
        f.write(what + "\\n")

def _slowly(what):
    parts = what.split("/")
    if "hang" in parts:
        _note(what)
        while True:
            time.sleep(3600)  # never answers
    if "drip" in parts:
        _note(what)
        host, port = os.environ["LAGGARD_DRIP"].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(b"GET /answer HTTP/1.0\\r\\n\\r\\n")
            while conn.recv(1):  # a byte at a time, each within the 5 s timeout
                pass
        raise ConnectionError("the server hung up")
    if "crash" in parts:
        raise FatalPluginError("laggard broke on purpose; run: docker pass plugins enable laggard")

class LaggardPlugin:
    name = "laggard"
    version = "1.0.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_WRITE

    def start(self):
        if os.environ.get("LAGGARD_START") == "hang":
            _slowly("hang/start")

    def stop(self): pass
    def storage(self): return "slow on purpose"

    def list(self, pattern):
        _slowly(pattern.value)
        return [SecretInfo(ID(k)) for k in DATA if pattern.matches(k)]

    def resolve(self, pattern):
        _slowly(pattern.value)
        return [Envelope(ID(k), v) for k, v in DATA.items() if pattern.matches(k)]

    def get(self, id_):
        _slowly(id_.value)
        if id_.value not in DATA:
            raise SecretNotFoundError()
        return Envelope(id_, DATA[id_.value])

    def save(self, id_, value, metadata):
        _slowly(id_.value)

    def delete(self, id_):
        _slowly(id_.value)
        return False
'''


def install_laggard_plugin(root: Path, drip: DripServer) -> dict[str, str]:
    """Write the plugin's dist under ``root``; the environment that makes processes load it
    (``PYTHONPATH``) and find its log and ``drip``'s address."""
    site = install_plugin_dist(
        root / "site",
        "laggard-plugin",
        "1.0",
        "laggard",
        "laggard_plugin_mod",
        "LaggardPlugin",
        LAGGARD_MODULE,
    )
    return {
        "PYTHONPATH": str(site),
        "LAGGARD_LOG": str(root / "laggard.log"),
        "LAGGARD_DRIP": drip.address,
    }


class LaggardCalls:
    """The slow calls that entered the plugin (any process), from its log."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def entered(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    def wait_entered(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.entered()) < count:
            assert time.monotonic() < deadline, f"{self.entered()}: not {count} calls"
            time.sleep(0.02)


class DripServer:
    """A TCP server on loopback that answers every connection one byte every
    ``interval`` seconds, for ever: first an HTTP status line and the start of a header,
    then that header's value, never ending (a vault behind a dying link, or a hostile one)."""

    HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: "

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self._closed = threading.Event()
        self.connections = 0
        serve_each(self._listener, self._drip)

    def _drip(self, conn: socket.socket) -> None:
        self.connections += 1
        body = iter(self.HEAD)
        with conn:
            while not self._closed.wait(self.interval):
                byte = next(body, ord("."))
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
