"""The engine threads: engine calls run side by side, and a request (or the process) can stop
waiting for one.

A plugin can hang (a 1Password prompt nobody answers).  :class:`EngineCalls` runs engine calls
on daemon threads; each plugin that is not ``concurrent`` is called one request at a time (the
engine holds its turn), so a slow plugin delays only requests that need it, and each plugin
call ends for the engine at the plugin's deadline (:mod:`docker_pass.core.plugin_calls`: the
call itself runs on, on a thread of its own).  A request whose deadline passes first is
answered at once, its engine thread stops waiting for the plugin, and a call still queued is
dropped.  The event loop never waits for the engine,
so ``GetVersion`` always answers, and on shutdown every waiting request is answered
``unavailable`` instead of holding the stop up.  The threads are daemon threads, so a plugin
that never returns cannot keep the process alive after ``engine stop``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from docker_pass.core.plugin_calls import AbandonToken, under_token

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("docker_pass.engine")

T = TypeVar("T")

#: Engine calls running at once, at most: requests to different plugins run side by side, and a
#: few hung plugin calls never starve the rest.  (Calls to one plugin that is not ``concurrent``
#: queue on that plugin's own lock in the engine, not here.)
MAX_ENGINE_THREADS = 32


class EngineCalls:
    """Daemon threads that run engine calls side by side, which requests (and the process) can
    stop waiting for.

    Not a ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so a
    plugin that never returns would keep a stopped daemon alive.  A thread is added when a
    call arrives and none is idle, up to :data:`MAX_ENGINE_THREADS`; idle ones wait for the
    next call.
    """

    def __init__(self, name: str = "engine", max_threads: int = MAX_ENGINE_THREADS) -> None:
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._name = name
        self._max_threads = max_threads
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._guard = threading.Lock()
        self._waiting: set[asyncio.Future[Any]] = set()
        self._stopping = False

    @property
    def threads(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    def submit(self, call: Callable[[], T]) -> Future[T]:
        """Queue ``call``; its future (cancelling it before it starts drops it)."""
        future: Future[T] = Future()
        with self._guard:
            if self._idle == 0 and len(self._threads) < self._max_threads:
                thread = threading.Thread(
                    target=self._serve, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                self._idle += 1
                thread.start()
            self._idle -= 1  # one thread will take this call (it counts itself idle again)
        self._calls.put((future, call))
        return future

    async def run(self, call: Callable[[], T]) -> T:
        """Run ``call`` on a thread and wait for it, unless the waiting is called off.

        Cancelling the awaiting task (a deadline) returns at once: a call still queued is
        dropped, one already running is left to finish unheard.  After :meth:`stop_waiting`,
        raises ``unavailable``.
        """
        if self._stopping:
            raise _stopping_error()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        token = AbandonToken()
        work = self.submit(lambda: under_token(token, call))
        work.add_done_callback(lambda done: _settle_from_thread(loop, answer, done))
        self._waiting.add(answer)
        try:
            return await answer
        finally:
            self._waiting.discard(answer)
            if not work.done() and not work.cancel():
                token.abandoned = True  # still waiting for its plugin's turn: it gives up
                log.warning(
                    "a request was answered while its engine call still runs (a plugin has "
                    "not returned); calls to that plugin wait for it, at most its deadline"
                )

    def stop_waiting(self) -> None:
        """Answer every waiting and future :meth:`run` with ``unavailable`` (shutting down)."""
        self._stopping = True
        for answer in list(self._waiting):
            if not answer.done():
                answer.set_exception(_stopping_error())

    def close(self, timeout: float) -> bool:
        """Let queued calls finish and stop the threads; whether all stopped within
        ``timeout``."""
        with self._guard:
            threads = list(self._threads)
        for _ in threads:
            self._calls.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            future, call = item
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # noqa: BLE001 - handed to the waiter, as executors do
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, call, item  # no references to a finished call's result while idle
            with self._guard:
                self._idle += 1


def _stopping_error() -> ConnectError:
    return ConnectError(Code.UNAVAILABLE, "the engine is stopping")


def _settle_from_thread(
    loop: asyncio.AbstractEventLoop, answer: asyncio.Future[T], work: Future[T]
) -> None:
    if loop.is_closed():
        return  # a call abandoned at shutdown finished after the loop
    with suppress(RuntimeError):  # the loop closed meanwhile
        loop.call_soon_threadsafe(_settle, answer, work)


def _settle(answer: asyncio.Future[T], work: Future[T]) -> None:
    if answer.done():
        return  # abandoned: its deadline passed, or the engine is stopping
    if work.cancelled():
        answer.cancel()
    elif (exc := work.exception()) is not None:
        answer.set_exception(exc)
    else:
        answer.set_result(work.result())
