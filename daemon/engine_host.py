"""The daemon's warm engine, and the host that runs calls to it.

Plugins are started once, before the socket appears, and stay up; a plugin may define
``refresh()`` (for example to re-read a 1Password item list), which is called every
``refresh_interval`` seconds (:meth:`EngineHost.refresh_forever`).  Engine calls run side by
side on engine threads (:mod:`.engine_calls`); a plugin sees two requests at once only if it
says it may (``concurrent = True``), so a slow plugin delays only the requests that need it,
and a crash recorded by one request is what every later client sees.

The engine is rebuilt when the config file changes behind the daemon's back, one generation
after another (:mod:`docker_pass.core.generations`, as the UI's fronts are).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress
from typing import TYPE_CHECKING, TypeVar

from docker_pass.core.config import config_path
from docker_pass.core.engine import Engine
from docker_pass.core.errors import DockerPassError
from docker_pass.core.external import ExternalPlugins
from docker_pass.core.generations import Generations, file_signature
from docker_pass.core.state import state_path
from docker_pass.daemon.engine_calls import EngineCalls
from docker_pass.daemon.limits import ENGINE_CLOSE_TIMEOUT
from docker_pass.daemon.protocol import connect_error

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from concurrent.futures import Future

    from docker_pass.core.generations import Signature
    from docker_pass.core.plugin import Plugin
    from docker_pass.core.results import PluginStatus

log = logging.getLogger("docker_pass.engine")

T = TypeVar("T")

#: Seconds between ``refresh()`` calls on plugins that define one.
DEFAULT_REFRESH_INTERVAL = 300.0


class WarmEngine(Engine):
    """An engine that keeps its plugins up and refreshes the ones that can be refreshed.

    A plugin that can keep values warm (``keep_values_warm()``: the keychain plugin on the file
    store, whose key the daemon holds anyway) is asked to once it has started (within its
    start's deadline).
    """

    def __init__(
        self,
        specs: dict[str, str] | None = None,
        factories: Mapping[str, Callable[[], Plugin]] | None = None,
    ) -> None:
        super().__init__(specs, factories)
        self._roster.on_started = _keep_values_warm

    def refresh_plugins(self) -> list[str]:
        """Call ``refresh()`` on every running plugin that has one; return their names.

        A failure, or a refresh past the plugin's deadline, is recorded exactly as a failed
        request would be (a fatal one crashes the plugin for every client), and never stops
        the others from refreshing.
        """
        return self._call_each("refresh", "refresh")

    def fill_warm(self) -> list[str]:
        """Ask every running plugin that keeps values warm to read them all now
        (:class:`~docker_pass.core.plugin.WarmAnswers`), so that the first burst of lookups
        after a start is answered on the daemon's loop; their names.  Failures are recorded
        as a refresh's are."""
        return self._call_each("fill_warm", "filling warm values")

    def _call_each(self, method: str, doing: str) -> list[str]:
        """``method()`` of every running plugin that has it, each within its deadline."""
        roster = self._roster
        called = []
        for slot in roster.slots.values():
            instance = slot.instance
            call = getattr(instance, method, None)
            if instance is None or not callable(call):
                continue
            try:
                roster.call(slot, instance, call)
            except Exception as exc:  # noqa: BLE001 - one plugin's failure is its own
                message = roster.record_failure(slot, exc)
                log.warning("plugin %s: %s failed: %s", slot.name, doing, message)
                continue
            called.append(slot.name)
        return called


def _keep_values_warm(instance: Plugin) -> None:
    """Ask a plugin that can to keep values warm; it still serves (cold) if it cannot, so
    this is no failed start (three of those would keep the keychain down)."""
    keep = getattr(instance, "keep_values_warm", None)
    if callable(keep):
        try:
            keep()
        except DockerPassError as exc:
            log.warning("plugin %s: values are not kept warm: %s", instance.name, exc)


class EngineHost:
    """Owns the daemon's engine and runs calls to it side by side on engine threads.

    Requests for different plugins run at once; calls to a plugin that is not ``concurrent``
    take turns on that plugin's turn in the engine, each within the plugin's deadline
    (:mod:`docker_pass.core.plugin_calls`), and a request whose deadline passes stops waiting
    (:class:`EngineCalls`).  The engine is
    rebuilt when the config file changes behind the daemon's back (a person edited it, or ran
    ``--no-daemon plugins enable``), so enabled flags and patterns never go stale; calls still
    running finish on the engine they started on, and the last of them closes it.
    """

    def __init__(self, factory: Callable[[], Engine] = WarmEngine) -> None:
        self._calls = EngineCalls()
        self._factory = factory
        #: The external plugins hosted now (:mod:`.external`): every engine generation
        #: follows this one registry, so they outlive a reload of the config.
        self.external = ExternalPlugins()
        self._engines: Generations[Engine] = Generations(self._build, self._close_engine)
        #: Plugins left in a call when their engine closed (not stopped: see :meth:`close`).
        self._left_busy: list[str] = []
        #: The config file as the engine last read or wrote it.
        self._config_seen: Signature | None = None
        #: The run state file as the last call found it.
        self._state_seen: Signature | None = None
        #: Calls running that write the config themselves (enable, disable): meanwhile a
        #: changed config file is ours, not a change made behind the daemon's back.
        self._writing_config = 0
        #: Guards the two above; never held over a plugin call.
        self._watch = threading.Lock()

    @property
    def threads(self) -> int:
        """Engine threads started so far (``engine status`` and the tests)."""
        return self._calls.threads

    def current_engine(self) -> Engine | None:
        """The engine that calls start on now (``None`` between a reload and the next call);
        never waits (the event loop asks it)."""
        return self._engines.current()

    def start(self) -> list[PluginStatus]:
        """Build the engine and start every enabled plugin (blocking; call before serving)."""
        return self.run_now(lambda engine: engine.plugins())

    def run_now(self, work: Callable[[Engine], T]) -> T:
        """:meth:`call`, blocking, for the daemon's own work before it serves."""
        return self._calls.submit(lambda: self._run(work, False)).result()

    def fill_warm_soon(self) -> None:
        """Read the warm plugins' values on an engine thread, without waiting for it
        (:meth:`WarmEngine.fill_warm`): the daemon serves meanwhile, and what is not warm yet
        is read as before."""
        filling = self._calls.submit(lambda: self._run(_fill_warm, False))
        filling.add_done_callback(_log_fill)

    async def call(self, work: Callable[[Engine], T], *, writes_config: bool = False) -> T:
        """Run ``work`` with the engine on an engine thread.

        ``writes_config``: the work changes the config file itself (enable, disable), which
        must not look like a change made behind the daemon's back.  Cancelled (its request's
        deadline passed), it returns at once and the work is abandoned.
        """
        return await self._calls.run(lambda: self._run(work, writes_config))

    async def refresh_forever(self, interval: float) -> None:
        """Every ``interval`` seconds, refresh the plugins that can be (until cancelled)."""
        while True:
            await asyncio.sleep(interval)
            try:
                names = await self.call(_refresh_plugins)
            except Exception as exc:  # noqa: BLE001 - the next interval tries again
                log.warning("refreshing plugins failed: %s", connect_error(exc).message)
                continue
            if names:
                log.debug("refreshed %s", ", ".join(names))

    def stop_waiting(self) -> None:
        """Shutting down: requests waiting for the engine are answered ``unavailable`` now."""
        self._calls.stop_waiting()

    def close(self, timeout: float = ENGINE_CLOSE_TIMEOUT) -> bool:
        """Stop the plugins and the engine threads, waiting at most ``timeout`` seconds;
        whether they stopped.

        A plugin stuck in a call keeps its thread and is not stopped under it; it is left
        behind rather than keeping a stopping daemon alive (see
        :func:`~docker_pass.daemon.server.run_engine`).
        """
        self._left_busy = []  # the engine this retires is the one that counts now
        closing = self._calls.submit(self._engines.retire)
        with suppress(Exception):
            closing.result(timeout)
        if self._calls.close(timeout) and closing.done() and not self._left_busy:
            return True
        busy = ", ".join(self._left_busy) or "a plugin"
        log.warning(
            "%s has not returned from a call after %g s: exiting without stopping plugins "
            "still in a call",
            busy,
            timeout,
        )
        return False

    def _build(self) -> Engine:
        engine = self._factory()
        # A stand-in engine (tests' fakes) may not host external plugins: then it does not.
        follow = getattr(engine, "follow_external", None)
        if callable(follow):
            follow(self.external)
        return engine

    def _close_engine(self, engine: Engine) -> None:
        engine.close()
        self._left_busy.extend(engine.busy_plugins())

    def _run(self, work: Callable[[Engine], T], writes_config: bool) -> T:
        """``work`` on the current engine (on an engine thread)."""
        self._notice_config_change(writes_config)
        recorded = self._state_changed()
        generation, fresh = self._engines.enter()
        try:
            if fresh:
                generation.item.plugins()  # warm again at once, as at start
            elif recorded:
                generation.item.follow_recorded_crashes()
            return work(generation.item)
        finally:
            if writes_config:
                with self._watch:
                    self._writing_config -= 1
                    self._config_seen = file_signature(config_path())
            self._engines.leave(generation)

    def _state_changed(self) -> bool:
        """Whether the plugins' run state file changed since the last call (one ``stat``):
        then a crash another process recorded is followed here too (the plugin stops)."""
        seen = file_signature(state_path())
        with self._watch:
            changed, self._state_seen = seen != self._state_seen, seen
        return changed

    def _notice_config_change(self, writes_config: bool) -> None:
        """Retire the engine if the config file changed behind our back since we last saw
        it (a change while our own write runs is ours); count a call that writes it."""
        with self._watch:
            seen = file_signature(config_path())
            if seen != self._config_seen and not self._writing_config and self._engines.retire():
                log.info("config %s changed: reloading plugins", config_path())
            self._config_seen = seen
            if writes_config:
                self._writing_config += 1


def _fill_warm(engine: Engine) -> list[str]:
    return engine.fill_warm() if isinstance(engine, WarmEngine) else []


def _log_fill(filling: Future[list[str]]) -> None:
    if filling.cancelled():
        return
    if (exc := filling.exception()) is not None:
        log.warning("keeping values warm failed: %s", connect_error(exc).message)
    elif names := filling.result():
        log.debug("values kept warm: %s", ", ".join(names))


def _refresh_plugins(engine: Engine) -> list[str]:
    return engine.refresh_plugins() if isinstance(engine, WarmEngine) else []
