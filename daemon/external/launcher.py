"""Starting a plugin program the way Docker's engine does, and watching it until it exits.

The engine makes a socketpair and starts the program with its end as fd 3 and
``DOCKER_SECRETS_ENGINE_PLUGIN_LAUNCH_CFG={"name":…,"timeout":<ns>,"fd":3}`` (the SDK's
``ipc.PluginConfigFromEngine``: the name it must register, its registration timeout in
nanoseconds as Go's ``time.Duration`` reads JSON, the descriptor); no hijack: the SDK runs
yamux on fd 3 at once.  ``os.posix_spawn`` places the descriptors (subprocess cannot put one
at 3 without running code in the child), in a process group of its own (a Ctrl-C meant for
``engine run`` does not reach it: the engine stops it itself), with SIGPIPE back to default.

A plugin gets a small environment (:data:`PASSED_ENV`), not the daemon's: that may hold
tokens (1Password's ``OP_SERVICE_ACCOUNT_TOKEN``) that are not the plugin's to see.  Its
stdout and stderr are one pipe whose last :data:`TAIL_BYTES` are kept, never logged: the
last lines say why it exited when it does (:meth:`LaunchedProcess.exit_message`).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import signal
import socket
import threading
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger("docker_pass.engine")

#: The launch configuration's variable (``api.PluginLaunchedByEngineVar``).
LAUNCH_ENV = "DOCKER_SECRETS_ENGINE_PLUGIN_LAUNCH_CFG"
#: The descriptor a launched plugin talks on (``ipc.FdWrapper.ToCustomCfg``).
PLUGIN_FD = 3
#: The daemon's variables a launched plugin gets (and every ``LC_*`` and ``XDG_*``).
PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SHELL")
_PASSED_PREFIXES = ("LC_", "XDG_")
#: Bytes of a plugin's output kept for its exit message.
TAIL_BYTES = 4096
#: Lines of that output the exit message quotes.
TAIL_LINES = 3


def launch_environment(name: str, registration_timeout: float) -> dict[str, str]:
    """The environment of a launched plugin: :data:`PASSED_ENV` from ours, and its launch
    configuration."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in PASSED_ENV or key.startswith(_PASSED_PREFIXES)
    }
    config = {"name": name, "timeout": int(registration_timeout * 1e9), "fd": PLUGIN_FD}
    env[LAUNCH_ENV] = json.dumps(config, separators=(",", ":"))
    return env


class _Tail(asyncio.Protocol):
    """The last :data:`TAIL_BYTES` of a pipe."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data
        del self.data[:-TAIL_BYTES]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class LaunchedProcess:
    """A plugin program the engine started: its pid, its exit, the tail of its output."""

    def __init__(self, pid: int, name: str, tail: _Tail) -> None:
        self.pid = pid
        self.name = name
        self._tail = tail
        loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = loop.create_future()
        #: The wait status, once it exited.
        self.status: int | None = None
        # A thread per process waits for it: asyncio's child watchers know only the
        # processes asyncio started, and a blocked waitpid cannot be cancelled (it returns
        # once the engine has made sure the process ended).
        waiter = threading.Thread(
            target=self._wait, args=(loop,), name=f"plugin {name} waiter", daemon=True
        )
        waiter.start()

    def _wait(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                status = 0
            except InterruptedError:
                continue
            break
        with suppress(RuntimeError):  # the loop closed first: nobody waits any more
            loop.call_soon_threadsafe(self._set_exited, status)

    def _set_exited(self, status: int) -> None:
        self.status = status
        if not self._exited.done():
            self._exited.set_result(status)

    @property
    def running(self) -> bool:
        return self.status is None

    async def wait(self) -> int:
        """Wait until it exits; its wait status."""
        return await asyncio.shield(self._exited)

    def send(self, sig: signal.Signals) -> None:
        """Send ``sig`` if it still runs."""
        if self.status is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    async def stop(self, grace: float) -> int:
        """Let it exit by itself for ``grace`` seconds, then SIGINT (another ``grace``), then
        SIGKILL; its wait status."""
        for sig in (None, signal.SIGINT, signal.SIGKILL):
            if sig is not None:
                self.send(sig)
            try:
                async with asyncio.timeout(grace if sig is not signal.SIGKILL else None):
                    return await self.wait()
            except TimeoutError:
                continue
        return await self.wait()

    async def exit_message(self) -> str:
        """How it ended: killed by which signal, or its exit status and the last lines it
        wrote (``exited with status 2: …``; the plugin's own words, for ``plugins ls``)."""
        status = await self.wait()
        with suppress(TimeoutError):  # what it wrote last, if the pipe ends soon
            async with asyncio.timeout(0.5):
                await self._tail.closed
        if os.WIFSIGNALED(status):
            # Killed: what it wrote last was not about its end.
            return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
        how = f"exited with status {os.waitstatus_to_exitcode(status)}"
        text = self._tail.data.decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        said = " | ".join(lines[-TAIL_LINES:])
        return f"{how}: {said}" if said else how


async def launch(
    name: str, path: str, registration_timeout: float
) -> tuple[LaunchedProcess, asyncio.StreamReader, asyncio.StreamWriter]:
    """Start the plugin at ``path`` as ``name``; the process and our end of its socketpair
    (as asyncio's reader and writer).  Raises ``OSError`` when it cannot be started."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    out_read, out_write = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    # Above the targets (0 to 3), so no placement overwrites a source before it is used.
    sources = [_above(fd) for fd in (null, out_write, theirs.fileno())]
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, sources[0], 0),
            (os.POSIX_SPAWN_DUP2, sources[1], 1),
            (os.POSIX_SPAWN_DUP2, sources[1], 2),
            (os.POSIX_SPAWN_DUP2, sources[2], PLUGIN_FD),
        ]
        pid = os.posix_spawn(
            path,
            [path],
            launch_environment(name, registration_timeout),
            file_actions=actions,
            setpgroup=0,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM),
        )
    except BaseException:
        ours.close()
        os.close(out_read)
        raise
    finally:
        for fd in {null, out_write, *sources}:
            os.close(fd)
        theirs.close()
    loop = asyncio.get_running_loop()
    _, tail = await loop.connect_read_pipe(_Tail, os.fdopen(out_read, "rb", buffering=0))
    process = LaunchedProcess(pid, name, tail)
    reader, writer = await asyncio.open_connection(sock=ours)
    return process, reader, writer


def _above(fd: int) -> int:
    """A duplicate of ``fd`` numbered 10 or more (close-on-exec: only the placements pass)."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


def describe_path(path: str, home: Mapping[str, str] | None = None) -> str:
    """``path`` with the home directory written ``~`` (for messages)."""
    base = (home or os.environ).get("HOME", "")
    return (
        "~" + path[len(base) :] if base not in ("", "/") and path.startswith(base + "/") else path
    )
