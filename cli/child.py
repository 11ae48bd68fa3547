"""The child process of ``run``: its own process group, the terminal, forwarded signals.

The child gets its own process group (and the terminal's foreground, when there is one, so an
interactive child can read it without SIGTTIN); SIGINT, SIGTERM and SIGHUP are forwarded to
that group; the exit code is the child's, or 128+N when signal N killed it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from docker_pass.core.references.resolution import RunError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.core.hardening import DumpState


class ChildIO(Protocol):
    """Where the child's output goes instead of our own descriptors (``run --mask``:
    :class:`~docker_pass.cli.mask.PipeIO`, :class:`~docker_pass.cli.mask_pty.PtyIO`)."""

    #: Whether the child leads a session of its own (its terminal is a pty of ours).
    own_session: bool

    def popen_options(self) -> dict[str, object]:
        """Popen's ``stdin``/``stdout``/``stderr`` for the child."""
        ...

    def started(self) -> None:
        """Called once the child runs."""
        ...

    def pump(self, child: subprocess.Popen[bytes]) -> None:
        """Copy the child's output until it ends."""
        ...

    def close(self) -> None:
        """Restore what was changed; called on every way out."""
        ...


FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def interruptible() -> None:
    """Let SIGINT interrupt ``run`` while it resolves references, even when the shell started
    it with SIGINT ignored (``cmd &``): a person's interrupt is one, in the background too."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run_child(
    argv: Sequence[str],
    env: Mapping[bytes, bytes],
    *,
    user_limits: DumpState | None = None,
    io: ChildIO | None = None,
) -> int:
    """Run ``argv`` with ``env`` in its own process group; return its exit code.

    ``user_limits``: what :func:`~docker_pass.core.hardening.make_non_dumpable` changed in this
    process; the child gets the user's core limit back (exec makes it dumpable again itself).

    SIGINT and SIGTERM are forwarded whatever their disposition was when we started: a shell
    runs ``docker pass run … &`` with SIGINT ignored, and the child, alone in its process group,
    would otherwise never see the interrupt meant for it.  The child starts with both at their
    default.  SIGHUP ignored at our start (``nohup``) stays ignored, for us and the child.

    ``io``: the child's output goes there (``run --mask``) rather than to our descriptors; a
    child in a session of its own (on a pty) does not take our terminal.
    """
    own_session = io is not None and io.own_session
    options: dict[str, Any] = io.popen_options() if io is not None else {}
    tty_fd = None if own_session else _terminal_fd()
    forwarded = [
        sig
        for sig in FORWARDED_SIGNALS
        if sig != signal.SIGHUP or signal.getsignal(sig) is not signal.SIG_IGN
    ]

    def prepare_child() -> None:  # runs in the child between fork and exec
        for sig in forwarded:
            signal.signal(sig, signal.SIG_DFL)  # an ignored SIGINT would survive exec
        if user_limits is not None:
            user_limits.restore_core_limit()  # the user's command, the user's limits
        if own_session:
            _lead_own_session()
            return
        os.setpgid(0, 0)
        if tty_fd is not None:
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            with suppress(OSError):
                os.tcsetpgrp(tty_fd, os.getpgrp())
            signal.signal(signal.SIGTTOU, old)

    # The forwarder is in place before the child exists: a signal that comes while it starts
    # is kept and sent once it runs, never turned into our own KeyboardInterrupt.
    started: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not started:
            pending.append(signum)
            return
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(started[0], signum)

    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        try:
            # preexec_fn is how a child takes the terminal, as shells do, and gets its core
            # limit back (Popen has no rlimit argument); our resolver threads have all finished.
            child: subprocess.Popen[bytes] = subprocess.Popen(
                list(argv),
                env=dict(env),
                preexec_fn=prepare_child,  # noqa: PLW1509
                close_fds=True,
                **options,
            )
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise RunError(f"starting child: {argv[0]}: {reason}") from None
        started.append(child.pid)
        for signum in pending:
            forward(signum, None)
        if io is not None:
            io.started()
            io.pump(child)
        while True:
            try:
                code = child.wait()
                break
            except InterruptedError:
                continue
    finally:
        if io is not None:
            io.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if tty_fd is not None:
            _take_terminal_back(tty_fd)
    return 128 - code if code < 0 else code


def _lead_own_session() -> None:
    """In the child, between fork and exec: a session of its own whose controlling terminal is
    its stdout (a pty ``run --mask`` made)."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(1, termios.TIOCSCTTY, 0)


def _terminal_fd() -> int | None:
    """stdin's fd when it is our controlling terminal and we are in its foreground."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    if not os.isatty(fd):
        return None
    try:
        return fd if os.tcgetpgrp(fd) == os.getpgrp() else None
    except OSError:
        return None


def _take_terminal_back(fd: int) -> None:
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        with suppress(OSError):
            os.tcsetpgrp(fd, os.getpgrp())
    finally:
        signal.signal(signal.SIGTTOU, old)
