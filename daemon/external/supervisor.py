"""Launched plugins: the programs in the plugins directory, started with the daemon, brought
back when they exit, given up on past a budget, and stopped with it.

One :class:`Supervisor` per program.  Each attempt launches it (:mod:`.launcher`) and serves
its socketpair like any plugin connection (:meth:`~.host.ExternalHost.serve_connection`, with
the supervisor as the connection's owner: the registry entry is the supervisor's, so the
plugin stays in ``plugins ls`` between attempts).  When an attempt ends (the program exited,
closed its connection, or did not register in time), the plugin is ``crashed`` with how it
ended and the last lines it wrote, and is launched again after a pause that starts at
:attr:`RestartPolicy.backoff` seconds (2, as Docker's engine waits) and doubles with each
failure in a row, up to :attr:`RestartPolicy.max_backoff`.  After
:attr:`RestartPolicy.retries` failures in a row it is ``retries-exceeded``
(``RUN_STATUS_RETRIES_EXCEEDED``) and left down until ``plugins enable NAME``.  An attempt
that stayed registered for :attr:`RestartPolicy.stable` seconds starts the count again.

:class:`Launcher` starts them all when the daemon starts (and waits for each first attempt
to register or fail, so they are up before clients connect) and stops them when it stops:
the host's ``Shutdown`` to each connection, then each program gets
:attr:`HostSettings.shutdown_timeout` seconds to exit, then SIGINT, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code

from docker_pass.core.external import ExternalEntry, launchable_plugins, plugins_dir
from docker_pass.core.state import RunStatus, update_run_state
from docker_pass.daemon.external.launcher import describe_path, launch
from docker_pass.daemon.external.registration import NAME_RULE, refusal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.daemon.external.host import ExternalHost, PluginConnection
    from docker_pass.daemon.external.plugin import ExternalPlugin
    from docker_pass.daemon.external.registration import Registered

log = logging.getLogger("docker_pass.engine")

#: The first pause before a crashed plugin is launched again, over the config file (tests).
BACKOFF_ENV = "DOCKER_PASS_PLUGIN_BACKOFF"
#: Seconds before the first relaunch (Docker's engine: 2), the longest pause, and the
#: failures in a row after which a plugin is left down.
DEFAULT_BACKOFF = 2.0
MAX_BACKOFF = 60.0
DEFAULT_RETRIES = 5


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """When a launched plugin is launched again (config ``engine.plugin_backoff``,
    ``engine.plugin_retries``; ``$DOCKER_PASS_PLUGIN_BACKOFF`` over the first)."""

    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = MAX_BACKOFF
    retries: int = DEFAULT_RETRIES
    stable: float = 60.0

    def pause(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` failures in a row."""
        return float(min(self.max_backoff, self.backoff * 2 ** max(0, failures - 1)))

    @classmethod
    def configured(cls, config: Mapping[str, Any]) -> RestartPolicy:
        """The policy the config file (and the environment) asks for."""
        engine = config.get("engine")
        section = engine if isinstance(engine, dict) else {}
        backoff = float(section.get("plugin_backoff") or DEFAULT_BACKOFF)
        raw = os.environ.get(BACKOFF_ENV, "").strip()
        if raw:
            with suppress(ValueError):
                backoff = max(0.01, float(raw))
        retries = int(section.get("plugin_retries") or DEFAULT_RETRIES)
        return cls(backoff=backoff, max_backoff=max(backoff, MAX_BACKOFF), retries=retries)


class Supervisor:
    """One launched plugin (``name``, the program at ``path``): the owner of its connections
    (:class:`~.host.Owner`) and of its registry entry."""

    def __init__(self, name: str, path: str, host: ExternalHost, policy: RestartPolicy) -> None:
        self.launched_as: str | None = name
        self.name = name
        self.path = path
        self.origin = f"external, launched from {describe_path(path)}"
        self._host = host
        self._policy = policy
        self._loop = asyncio.get_running_loop()
        self._entry = ExternalEntry(name, launched=True, revive=self.revive)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._first: asyncio.Future[None] = self._loop.create_future()
        self.process: Any = None
        self.connection: PluginConnection | None = None
        #: Attempts made so far (the tests count them).
        self.attempts = 0

    def start(self) -> bool:
        """Take the plugin's name and begin; ``False`` (said in the log) if it is taken."""
        if not self._host.registry.claim(self._entry, self._host.reserved.__contains__):
            log.warning("plugin %s (%s) not launched: the name is taken", self.name, self.path)
            return False
        self._run_loop()
        return True

    async def first_attempt(self) -> None:
        """Wait until the first attempt has registered or failed."""
        await asyncio.shield(self._first)

    def revive(self) -> None:
        """Launch it again now (``plugins enable``): from any thread."""
        with suppress(RuntimeError):  # the loop is gone: the daemon is stopping
            self._loop.call_soon_threadsafe(self._revive)

    def _revive(self) -> None:
        if self._stopping:
            return
        if self._task is None or self._task.done():
            self._run_loop()
        else:
            self._wake.set()

    def _run_loop(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"plugin {self.name}")

    # -- host.Owner ------------------------------------------------------------------------

    def claim(self, registered: Registered) -> None:
        if self._stopping:
            raise refusal(Code.UNAVAILABLE, "the engine is stopping")

    def connected(self, plugin: ExternalPlugin) -> None:
        from docker_pass.core.roster import running

        self._set_entry(plugin)
        update_run_state(self.name, running)  # after: "running" means it can be called

    def disconnected(self, plugin: ExternalPlugin | None) -> None:
        self._set_entry(None)

    def _set_entry(self, plugin: ExternalPlugin | None) -> None:
        old = self._entry
        version = plugin.version if plugin is not None else old.version
        pattern = plugin.pattern if plugin is not None else old.pattern
        new = ExternalEntry(
            self.name,
            version=version,
            pattern=pattern,
            plugin=plugin,
            launched=True,
            revive=self.revive,
        )
        if self._host.registry.replace(old, new):
            self._entry = new

    # -- the loop --------------------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            started = time.monotonic()
            registered, why = await self._attempt()
            if self._stopping:
                break
            if registered and time.monotonic() - started >= self._policy.stable:
                failures = 0
            failures += 1
            # The plugin's own words stay out of the log (they could hold anything).
            log.warning("plugin %s: %s", self.name, why.partition(": ")[0])
            if failures > self._policy.retries:
                gave_up = f"{why} (gave up after {failures} tries)"
                await self._record(RunStatus.RETRIES_EXCEEDED, gave_up)
                return
            pause = self._policy.pause(failures)
            await self._record(RunStatus.CRASHED, f"{why} (launching it again in {pause:g} s)")
            self._wake.clear()
            with suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()

    async def _attempt(self) -> tuple[bool, str]:
        """Launch, serve, and wait for the end: whether it had registered, and how it ended."""
        self.attempts += 1
        settings = self._host.settings
        refused = self._host.refusal()
        if refused is not None:
            self._first_done()
            return False, f"not launched: {refused}"
        try:
            process, reader, writer = await launch(
                self.name, self.path, settings.registration_timeout
            )
        except OSError as exc:
            self._first_done()
            return False, f"cannot be started: {exc.strerror or exc}"
        self.process = process
        connection = self._host.serve_connection(reader, writer, launched=self)
        self.connection = connection
        registered = True
        why = ""
        exited = asyncio.ensure_future(process.wait())
        try:
            waiting: set[asyncio.Future[Any]] = {connection.registered, exited}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            failure = connection.registered.exception() if connection.registered.done() else None
            if failure is not None or not connection.registered.done():
                registered = False
            if failure is not None and not getattr(failure, "left", False):
                why = f"did not register: {failure}"  # (one that left: its exit says more)
            self._first_done()
            if registered:
                closed = asyncio.ensure_future(connection.wait_closed())
                ending: set[asyncio.Future[Any]] = {closed, exited}
                await asyncio.wait(ending, return_when=asyncio.FIRST_COMPLETED)
                closed.cancel()
        finally:
            self._first_done()
            if self._stopping:
                exited.cancel()
        if self._stopping:
            return registered, "stopped"
        # It left (or broke the protocol): make sure it is gone, and say how it ended.
        await connection.session.close()
        await process.stop(settings.shutdown_timeout)
        ended = await process.exit_message()
        return registered, f"{why}; {ended}" if why else ended

    def _first_done(self) -> None:
        if not self._first.done():
            self._first.set_result(None)

    async def _record(self, status: RunStatus, message: str) -> None:
        def record(state: Any) -> None:
            from docker_pass.core.roster import set_state

            set_state(state, status, message)

        await asyncio.to_thread(update_run_state, self.name, record)

    async def stop(self) -> None:
        """The daemon stops: no new attempt; the program (told ``Shutdown`` by the host) gets
        its time to exit, then SIGINT, then SIGKILL."""
        self._stopping = True
        self._wake.set()
        process = self.process
        if process is not None:
            status = await process.stop(self._host.settings.shutdown_timeout)
            log.info("plugin %s stopped (%s)", self.name, _exit_words(status))
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._task


def _exit_words(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


class Launcher:
    """Every launched plugin of the daemon."""

    def __init__(self, host: ExternalHost, directory: str, policy: RestartPolicy) -> None:
        self.host = host
        self._host = host
        self.directory = directory
        self._policy = policy
        self.supervisors: dict[str, Supervisor] = {}

    async def start(self) -> None:
        """Launch every program of the plugins directory (none from a folder others may
        write, none that others may write); return once each has registered or failed its
        first attempt (each within its registration timeout)."""
        found = launchable_plugins(self.directory)
        unsafe = _unsafe(self.directory) if found else None
        if unsafe is not None:
            log.warning("not launching the plugins of %s: it %s", self.directory, unsafe)
            found = {}
        for name, path in found.items():
            if NAME_RULE.fullmatch(name) is None:
                log.warning("not launching %s: the file name is no plugin name", path)
                continue
            unsafe = _unsafe(path)
            if unsafe is not None:
                log.warning("not launching %s: it %s", path, unsafe)
                continue
            supervisor = Supervisor(name, path, self._host, self._policy)
            if supervisor.start():
                self.supervisors[name] = supervisor
        if self.supervisors:
            log.info(
                "launching %s from %s", ", ".join(self.supervisors), describe_path(self.directory)
            )
            await asyncio.gather(*(s.first_attempt() for s in self.supervisors.values()))

    async def stop(self) -> None:
        """Stop them all (after the host told them ``Shutdown``)."""
        for supervisor in self.supervisors.values():
            supervisor._stopping = True
        await self._host.shutdown()
        await asyncio.gather(*(s.stop() for s in self.supervisors.values()))


def _unsafe(path: str) -> str | None:
    """Why the program (or folder) at ``path`` may not be run as this user: another user
    (not root) owns it, or others may write it, so someone else could choose what runs."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if st.st_uid not in (os.getuid(), 0):
        return "belongs to another user"
    if st.st_mode & 0o022:
        return "is writable by others (chmod go-w)"
    return None


def launcher_for(host: ExternalHost) -> Launcher:
    """The daemon's launcher: the plugins directory and restart policy as configured."""
    from docker_pass.core.config import load_config

    config = load_config()
    return Launcher(host, plugins_dir(config), RestartPolicy.configured(config))
