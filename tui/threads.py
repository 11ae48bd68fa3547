"""Where the app's thread workers run: daemon threads, so quitting never waits for a plugin.

Textual runs a thread worker with ``loop.run_in_executor(None, …)``: in the event loop's
default executor, a :class:`~concurrent.futures.ThreadPoolExecutor`.  Its threads are joined
twice on the way out — by ``asyncio.run`` (``shutdown_default_executor``, without a time limit
on Python 3.11) and at interpreter exit — so one plugin call that never returns (a hung ``op``,
a D-Bus service that stopped answering) would keep ``docker pass ui`` from ever exiting after
``q``.  :class:`DaemonThreadExecutor` runs each call in a daemon thread instead and, on
shutdown, gives running calls a short grace (a save under way gets to finish) and no more.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from docker_pass.core.names import PROGRAM

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

#: Seconds running calls get to finish when the app ends.
EXIT_GRACE_SECONDS = 1.0


class DaemonThreadExecutor(ThreadPoolExecutor):
    """Each call in a fresh daemon thread; ``shutdown(wait=True)`` waits at most ``grace``.

    A ``ThreadPoolExecutor`` by type only (``loop.set_default_executor`` insists on one);
    its pool is never used.
    """

    def __init__(self, grace: float = EXIT_GRACE_SECONDS) -> None:
        super().__init__(max_workers=1, thread_name_prefix=PROGRAM)
        self._grace = grace
        self._running: set[threading.Thread] = set()
        self._guard = threading.Lock()
        self._count = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            try:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the future's awaiter
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            finally:
                with self._guard:
                    self._running.discard(threading.current_thread())

        with self._guard:
            self._count += 1
            thread = threading.Thread(
                target=run, name=f"docker-pass-worker-{self._count}", daemon=True
            )
            self._running.add(thread)
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if wait:
            deadline = time.monotonic() + self._grace
            with self._guard:
                running = list(self._running)
            for thread in running:
                thread.join(max(0.0, deadline - time.monotonic()))
        super().shutdown(wait=False, cancel_futures=cancel_futures)

    @property
    def running(self) -> int:
        """How many calls are running now."""
        with self._guard:
            return len(self._running)
