"""Every call into a plugin, with a deadline the engine sets: a plugin that hangs, drips or
never returns costs its own callers their deadline and nothing else.

Python cannot stop a thread, so the engine never calls a plugin on its caller's thread: the
call runs on a plugin-call thread (:func:`_hand_over`), and the caller waits for it at most the
plugin's deadline (:class:`PluginLine`'s ``seconds``), counted from when the engine asked:
waiting for the plugin's turn counts.  Past it the caller gets
:class:`PluginTimeoutError` (``plugin NAME did not answer within N s``), which is not fatal:
the next call tries again.  The call itself runs on, unheard, until the plugin returns; its
thread goes back to the pool then.  A socket timeout would not do: a server that sends one
byte every few seconds resets it for ever; this deadline is total.

A plugin that is not ``concurrent`` takes one call at a time (its turn lock, held by the
plugin-call thread until the plugin returns).  While a call past its deadline still holds the
turn, every later call fails at once with the same message rather than queue behind it; a
plugin that may be called concurrently is refused the same way once
:data:`MAX_OVERDUE` of its calls are past their deadline and still running.  So a plugin
that always hangs holds at most that many threads, never the process's.

The threads come from a small pool of their own (standard library ``_thread``, no
``threading`` import on ``get``'s path): an idle one is reused, most recently used first, so
a plugin that keeps a session per thread (the vault plugin's HTTP connection) keeps it warm;
one idle for :data:`IDLE_RETIRE` seconds ends.  None of them keeps the process alive.

The daemon runs engine calls under an :class:`AbandonToken` (:func:`under_token`): once
its request has been answered, a call still waiting for its plugin's turn never reaches the
plugin, and a caller waiting for a plugin stops waiting.
"""

from __future__ import annotations

import _thread
import os
from time import monotonic
from typing import TYPE_CHECKING, Any, TypeVar

from docker_pass.core.errors import DockerPassError, PluginError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

T = TypeVar("T")

#: Seconds a plugin call may take unless configured: below the daemon's default request
#: deadline (30 s), by enough that a request that asked several plugins is answered with what
#: the others found; above what a healthy plugin takes, a 1Password prompt included.
DEFAULT_PLUGIN_TIMEOUT = 25.0
#: Every plugin's deadline, over the config file (for tests, and for a slow machine at once).
TIMEOUT_ENV = "DOCKER_PASS_PLUGIN_TIMEOUT"
#: Calls to one plugin past their deadline and still running, at most; more are refused.
MAX_OVERDUE = 4
#: Seconds an idle plugin-call thread waits for its next call before it ends.
IDLE_RETIRE = 60.0
#: Seconds between checks, while waiting, whether the caller gave up (daemon requests).
_TURN_POLL = 0.05


class PluginTimeoutError(PluginError):
    """Raised when a plugin did not answer a call within its deadline, or when a call of
    its that did not is still running (then the plugin is not called again meanwhile).

    Not fatal: the plugin keeps running and the next call tries again."""

    def __init__(self, plugin: str, seconds: float) -> None:
        self.plugin = plugin
        self.seconds = seconds
        super().__init__(f"plugin {plugin} did not answer within {seconds:g} s")


class CallAbandonedError(DockerPassError):
    """Raised in an engine call whose caller stopped waiting (the daemon answered its request
    at its deadline) before it reached its plugin: it never calls the plugin late."""


class AbandonToken:
    """Set ``abandoned`` when nobody waits for the engine call running under this token any
    more (:func:`under_token`); a call still waiting for its plugin then gives up."""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False


_calls_here = _thread._local()


def under_token(token: AbandonToken, work: Callable[[], Any]) -> Any:
    """Run ``work`` (on this thread) so that plugin calls made from it see ``token``."""
    _calls_here.token = token
    try:
        return work()
    finally:
        _calls_here.token = None


def plugin_timeout(config: Mapping[str, Any]) -> float:
    """Every plugin's deadline: ``$DOCKER_PASS_PLUGIN_TIMEOUT``, else ``engine.plugin_timeout``
    of the config file (checked when it was loaded), else :data:`DEFAULT_PLUGIN_TIMEOUT`.
    A plugin's own ``plugins.NAME.deadline`` wins over it (:func:`deadline_of`)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = 0.0
        if not 0 < seconds < float("inf"):
            raise DockerPassError(f"${TIMEOUT_ENV}: {raw[:40]!r} is not a positive number")
        return seconds
    engine = config.get("engine")
    configured = engine.get("plugin_timeout") if isinstance(engine, dict) else None
    return float(configured) if configured else DEFAULT_PLUGIN_TIMEOUT


def deadline_of(section: Mapping[str, Any], default: float) -> float:
    """A plugin's deadline from its section of the config file: ``deadline`` (checked before
    the plugin loads; 0 means the default), else ``default``.

    Not ``timeout``: that is a plugin's own setting for each thing it does (each ``op`` call,
    each HTTP request), which a call made of several may exceed; the deadline bounds the whole
    call, and a plugin's own timeout, when shorter, fails first with its own words.
    """
    own = section.get("deadline")
    return float(own) if own else default


class PluginLine:
    """One plugin's calls: its deadline, its turn, and its calls still running.

    ``seconds`` is set by the engine from the settings (:func:`deadline_of`).
    """

    __slots__ = ("_guard", "_holder", "_running", "_turn", "name", "seconds")

    def __init__(self, name: str, seconds: float = DEFAULT_PLUGIN_TIMEOUT) -> None:
        self.name = name
        self.seconds = seconds
        #: Held by the one call that is in a plugin which takes one call at a time.
        self._turn = _thread.allocate_lock()
        #: Guards the two below; held for a few assignments only.
        self._guard = _thread.allocate_lock()
        self._holder: PendingCall | None = None
        self._running: set[PendingCall] = set()

    def call(self, work: Callable[[], T], *, one_at_a_time: bool, abandonable: bool = True) -> T:
        """``work()`` (a call into this plugin) on a plugin-call thread; its result or its
        exception, unless it takes longer than the deadline: then
        :class:`PluginTimeoutError`.  ``one_at_a_time``: wait for the plugin's turn first
        (the waiting counts towards the deadline).  ``abandonable``: see :meth:`begin`."""
        pending = self.begin(work, one_at_a_time=one_at_a_time, abandonable=abandonable)
        result: T = pending.outcome()
        return result

    def begin(
        self, work: Callable[[], Any], *, one_at_a_time: bool, abandonable: bool = True
    ) -> PendingCall:
        """Hand ``work`` to a plugin-call thread now; :meth:`PendingCall.outcome` waits for it
        (the deadline counts from now).  Raises at once, without calling the plugin, when
        the caller gave up already or the plugin is :meth:`stuck`.  Not ``abandonable``: it
        runs even for a caller that gave up (a start serves later requests too)."""
        token: AbandonToken | None = getattr(_calls_here, "token", None) if abandonable else None
        if token is not None and token.abandoned:
            raise CallAbandonedError("the request was abandoned")
        if self.stuck(one_at_a_time):
            raise PluginTimeoutError(self.name, self.seconds)
        call = PendingCall(self, work, one_at_a_time, token)
        _hand_over(call)
        return call

    def stuck(self, one_at_a_time: bool) -> bool:
        """Whether a new call would only wait for calls past their deadline: the one holding
        the turn (``one_at_a_time``), or :data:`MAX_OVERDUE` of them."""
        now = monotonic()
        limit = self.seconds
        with self._guard:
            if one_at_a_time:
                holder = self._holder
                return holder is not None and (holder.overdue or now - holder.started >= limit)
            overdue = sum(1 for c in self._running if c.overdue or now - c.started >= limit)
        return overdue >= MAX_OVERDUE

    def abandon(self, call: PendingCall) -> None:
        """The caller of ``call`` stopped waiting: if it has not reached the plugin yet, it
        never will; if it has and its deadline passed, it is overdue from now on."""
        with self._guard:
            call.abandoned = True
            call.overdue = monotonic() >= call.deadline

    @property
    def running(self) -> int:
        """Calls in the plugin right now (finished or not in time)."""
        with self._guard:
            return len(self._running)

    def run(self, call: PendingCall) -> None:
        """On a plugin-call thread: wait for the turn if needed, call, hand the outcome back."""
        holds_turn = False
        try:
            if call.one_at_a_time:
                holds_turn = self._take_turn(call)
                if not holds_turn:
                    return
            with self._guard:
                if call.gone():
                    call.error = call.gave_up()
                    return
                call.started = monotonic()
                self._running.add(call)
                if holds_turn:
                    self._holder = call
            try:
                call.result = call.work()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
                call.error = exc
            finally:
                with self._guard:
                    self._running.discard(call)
                    if self._holder is call:
                        self._holder = None
        finally:
            if holds_turn:
                self._turn.release()
            call.work = _nothing  # nothing of a finished call stays reachable from here
            call.done.release()

    def _take_turn(self, call: PendingCall) -> bool:
        """Wait for the plugin's turn; ``False`` (outcome set) when the caller left, or the
        call holding the turn is past its deadline."""
        while not self._turn.acquire(True, _TURN_POLL):
            if call.gone():
                call.error = call.gave_up()
                return False
            if self.stuck(True):
                call.error = PluginTimeoutError(self.name, self.seconds)
                return False
        return True


def _nothing() -> None:
    return None


class PendingCall:
    """One call handed to a plugin-call thread (:meth:`PluginLine.begin`), and its outcome."""

    __slots__ = (
        "abandoned",
        "deadline",
        "done",
        "error",
        "line",
        "one_at_a_time",
        "overdue",
        "result",
        "seconds",
        "started",
        "token",
        "work",
    )

    def __init__(
        self,
        line: PluginLine,
        work: Callable[[], Any],
        one_at_a_time: bool,
        token: AbandonToken | None,
    ) -> None:
        self.line = line
        self.work = work
        self.one_at_a_time = one_at_a_time
        self.token = token
        self.seconds = line.seconds
        self.deadline = monotonic() + self.seconds
        self.result: Any = None
        self.error: BaseException | None = None
        #: Set by the caller that stopped waiting (under the line's guard); ``overdue`` too,
        #: when it stopped because the deadline passed.
        self.abandoned = False
        self.overdue = False
        #: When the plugin was called (monotonic); compared only once in ``_running``.
        self.started = 0.0
        #: Released once the outcome is set.
        self.done = _thread.allocate_lock()
        self.done.acquire()

    def gone(self) -> bool:
        """Whether nobody waits for this call any more (its caller's deadline, or its
        request's, passed)."""
        token = self.token
        return self.abandoned or (token is not None and token.abandoned)

    def gave_up(self) -> DockerPassError:
        """Why this call never reached its plugin: its request was abandoned, or its caller's
        deadline passed."""
        token = self.token
        if token is not None and token.abandoned:
            return CallAbandonedError("the request was abandoned")
        return PluginTimeoutError(self.line.name, self.seconds)

    def outcome(self) -> Any:
        """Wait until the call ends, at most until its deadline: its result, or its exception;
        :class:`PluginTimeoutError` past the deadline (the call runs on, unheard), or
        :class:`CallAbandonedError` once its caller's token is abandoned."""
        line, token = self.line, self.token
        if not _wait(self.done, self.deadline, token):
            line.abandon(self)
            if not self.done.acquire(False):  # it may have ended just now
                raise self.gave_up()
        error, self.error = self.error, None  # no cycle through the traceback
        if error is not None:
            raise error
        result, self.result = self.result, None
        return result


def _wait(done: Any, deadline: float, token: AbandonToken | None) -> bool:
    """Wait for ``done`` until ``deadline`` (monotonic); with a ``token``, also stop when it
    is abandoned."""
    if token is None:
        return bool(done.acquire(True, max(0.0, deadline - monotonic())))
    while not done.acquire(True, max(0.0, min(_TURN_POLL, deadline - monotonic()))):
        if token.abandoned or monotonic() >= deadline:
            return False
    return True


# -- the plugin-call threads ------------------------------------------------------------------


class _Worker:
    """An idle plugin-call thread: the call it is handed, and the lock that wakes it."""

    __slots__ = ("call", "wake")

    def __init__(self) -> None:
        self.call: PendingCall | None = None
        self.wake = _thread.allocate_lock()
        self.wake.acquire()


_idle: list[_Worker] = []
_pool = _thread.allocate_lock()


def _hand_over(call: PendingCall) -> None:
    """Run ``call`` on an idle plugin-call thread (the last to become idle), else a new one."""
    with _pool:
        worker = _idle.pop() if _idle else None
        if worker is not None:
            worker.call = call
    if worker is None:
        _thread.start_new_thread(_serve, (call,))
    else:
        worker.wake.release()


def _serve(call: PendingCall | None) -> None:
    worker = _Worker()
    while call is not None:
        call.line.run(call)
        call = None
        with _pool:
            _idle.append(worker)
        if not worker.wake.acquire(True, IDLE_RETIRE):
            with _pool:
                if worker in _idle:
                    _idle.remove(worker)
                    return
            worker.wake.acquire()  # handed a call as it retired: it is on its way
        call, worker.call = worker.call, None


def _forget_threads() -> None:
    """In a forked child: the pool's threads are not there (only the forking one is)."""
    global _pool  # noqa: PLW0603 - a fresh lock: the parent's may have been held at the fork
    _pool = _thread.allocate_lock()
    _idle.clear()


os.register_at_fork(after_in_child=_forget_threads)


def idle_threads() -> int:
    """Plugin-call threads waiting for a call (tests)."""
    with _pool:
        return len(_idle)
