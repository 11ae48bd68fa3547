"""One client process of the load and fault tests (and of ``benchmarks/bench_daemon.py``).

``python -m tests.daemon.load_worker --mode MODE --threads T --calls C --ids FILE`` starts T
threads that each resolve C secrets, checking every value against the SHA-256 in FILE (a JSON
list of ``[id, sha256]``; values never travel in argv).  The process prints ``ready`` once set
up and starts when a line arrives on stdin, so several processes start together; then it prints
one JSON line: ``ok``, ``wrong``, ``errors`` (by exception type), ``fell_back`` (threads that
moved to an embedded engine), ``latencies`` (seconds per call) and ``wall``.

Modes:
- ``daemon``: one :class:`DaemonClient` shared by the threads (each call its own connection
  when they overlap); errors are counted, never retried.
- ``fallback``: each thread is a command of its own: :func:`open_engine`, which falls back to an
  embedded engine if the daemon is gone or goes away.
- ``embedded``: each thread builds an embedded engine once, then resolves (warm, in-process).
- ``keepalive``: each thread has its own :class:`DaemonClient` (its own kept-alive
  connection) for all its calls: the benchmark's burst.
- ``version``: the same shape calling GetVersion (the answer must be a ``v``-prefixed
  semantic version): the server's own floor, no engine work.
- ``daemon-cold`` / ``embedded-cold``: what one CLI command pays per call, minus interpreter
  start-up: find the daemon (connect + GetVersion) or build and start an embedded engine, then
  resolve, then close.

Must not import pytest: the benchmark runs it in a venv without test extras.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker_pass.core import Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.errors import DockerPassError
from docker_pass.core.remote.front import DaemonOrEmbedded, EngineFront, find_daemon, open_engine

if TYPE_CHECKING:
    from docker_pass.core.remote.client import DaemonClient


class Tally:
    """Counts shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok = 0
        self.wrong = 0
        self.fell_back = 0
        self.errors: Counter[str] = Counter()
        self.latencies: list[float] = []

    def record(self, elapsed: float, good: bool) -> None:
        with self.lock:
            self.latencies.append(elapsed)
            if good:
                self.ok += 1
            else:
                self.wrong += 1

    def error(self, exc: BaseException) -> None:
        with self.lock:
            # Clean failures are docker-pass errors; anything else is a bug to report.
            kind = type(exc).__name__
            self.errors[kind if isinstance(exc, DockerPassError) else f"UNCLEAN:{kind}"] += 1


def matches(front: EngineFront | DaemonClient, id_: str, digest: str) -> bool:
    """Resolve ``id_``; whether exactly one value came back and it is the expected one."""
    envelopes = front.resolve_all(Pattern.parse(id_))
    return len(envelopes) == 1 and hashlib.sha256(envelopes[0].value).hexdigest() == digest


def one_call(mode: str, front: EngineFront | DaemonClient | None, id_: str, digest: str) -> bool:
    """One timed unit of work of ``mode``."""
    if mode == "daemon-cold":
        client, reason = find_daemon()
        if client is None:
            raise DockerPassError(reason)
        with client:
            return matches(client, id_, digest)
    if mode == "embedded-cold":
        with Engine() as engine:
            return matches(engine, id_, digest)
    if mode == "version":
        from docker_pass.core.remote.client import DaemonClient
        from docker_pass.core.remote.wire import is_engine_version

        assert isinstance(front, DaemonClient)
        return is_engine_version(front.version())
    assert front is not None
    return matches(front, id_, digest)


def thread_body(
    mode: str,
    index: int,
    calls: int,
    ids: list[tuple[str, str]],
    pause: float,
    shared: DaemonClient | None,
    go: threading.Event,
    tally: Tally,
) -> None:
    front: EngineFront | DaemonClient | None = shared
    if mode == "embedded":
        front = Engine()
        front.plugins()  # start the plugins before the clock runs
    elif mode in ("keepalive", "version"):
        front, reason = find_daemon(timeout=5.0)  # connected (and checked) before the clock
        if front is None:
            tally.error(DockerPassError(reason))
            return
    go.wait()
    if mode == "fallback":
        front = open_engine()
    for n in range(calls):
        id_, digest = ids[(index + n) % len(ids)]
        start = time.perf_counter()
        try:
            good = one_call(mode, front, id_, digest)
        except Exception as exc:  # noqa: BLE001 - counted and reported by kind
            tally.error(exc)
        else:
            tally.record(time.perf_counter() - start, good)
        if pause:
            time.sleep(pause)
    if mode == "fallback" and not (isinstance(front, DaemonOrEmbedded) and front.using_daemon):
        with tally.lock:
            tally.fell_back += 1
    if front is not None and front is not shared:
        front.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="load_worker")
    parser.add_argument(
        "--mode",
        choices=[
            "daemon",
            "fallback",
            "embedded",
            "keepalive",
            "version",
            "daemon-cold",
            "embedded-cold",
        ],
        required=True,
    )
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--calls", type=int, default=1, help="calls per thread")
    parser.add_argument("--ids", type=Path, required=True)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between a thread's calls")
    args = parser.parse_args(argv)
    ids = [(str(i), str(d)) for i, d in json.loads(args.ids.read_text())]
    tally = Tally()
    go = threading.Event()
    shared = None
    if args.mode == "daemon":
        shared, reason = find_daemon(timeout=2.0)
        if shared is None:
            print(json.dumps({"setup_error": reason}), flush=True)
            return 1
    threads = [
        threading.Thread(
            target=thread_body,
            args=(args.mode, i, args.calls, ids, args.pause, shared, go, tally),
        )
        for i in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if shared is not None:
        shared.close()
    result: dict[str, Any] = {
        "ok": tally.ok,
        "wrong": tally.wrong,
        "errors": dict(tally.errors),
        "fell_back": tally.fell_back,
        "latencies": tally.latencies,
        "wall": wall,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
