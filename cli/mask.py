"""``run --mask``: the child's output with every resolved value replaced by a marker.

:class:`StreamMasker` is the filter: it takes the output in whatever pieces it arrives and
gives back text in which every occurrence of a value, of its standard base64 form (with or
without ``=`` padding) and of its form inside a JSON string, is :data:`MARKER`.  Occurrences
that overlap or touch become one marker.
A value split across writes is still caught: the filter holds back only the bytes at the end of
what it has seen that could be the start of a value (at most the longest value's length less
one), and writes everything else at once.  So the latency is nil for output that cannot begin
a value; bytes that could are held until the next bytes show they are not (or the stream ends).
One exception keeps typing responsive: a held tail of at most :data:`RELEASE_LIMIT` bytes (a
keystroke's echo that happens to begin a value) is written after :data:`RELEASE_AFTER` seconds
of quiet.  If the bytes that follow complete a value, the rest of it still becomes the marker,
so a value split that early with a pause in between shows at most its first
:data:`RELEASE_LIMIT` bytes; a longer held tail (a value printed in two halves) waits for the
bytes that follow however long they take.

Masking protects logs and screens from an accidental print; it does not stop a command that
wants to reveal a value (it can transform it first: reverse it, hex it, split it).
"""

from __future__ import annotations

import base64
import os
import selectors
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterable

    from docker_pass.cli.child import ChildIO

__all__ = ["MARKER", "PipeIO", "StreamMasker", "masked_io", "patterns_of", "write_all"]

MARKER = b"<concealed by docker-pass>"
#: A held tail this short (a keystroke's echo) is written after :data:`RELEASE_AFTER` s of quiet.
RELEASE_LIMIT = 3
RELEASE_AFTER = 0.15
_CHUNK = 1 << 16


def patterns_of(values: Iterable[bytes]) -> list[bytes]:
    """The byte strings to conceal for ``values``: each value, its standard base64 form with
    and without padding, and the value escaped as inside a JSON string (a multi-line key
    printed on one line); empty values conceal nothing."""
    from docker_pass.core.escaping import json_escaped_forms

    found: set[bytes] = set()
    for value in values:
        if not value:
            continue
        found.add(value)
        encoded = base64.b64encode(value)
        found.add(encoded)
        found.add(encoded.rstrip(b"="))
        found.update(json_escaped_forms(value))
    found.discard(b"")
    return sorted(found, key=len, reverse=True)


class StreamMasker:
    """A streaming filter replacing every occurrence of ``patterns`` with :data:`MARKER`.

    ``feed(data)`` returns what can be written now; ``finish()`` what remains at the end.
    Holds at most ``len(longest pattern) - 1`` bytes between calls."""

    __slots__ = ("_covered", "_held", "_patterns", "_plain")

    def __init__(self, patterns: Iterable[bytes]) -> None:
        self._patterns = [p for p in patterns if p]
        self._held = b""
        #: How many leading bytes of ``_held`` were already written: inside a marker, or as
        #: they were (``_plain``: released by :meth:`release`).
        self._covered = 0
        self._plain = False

    @property
    def releasable(self) -> bool:
        """Whether :meth:`release` would write something: a short held tail, none of it
        written yet."""
        return self._covered == 0 and 0 < len(self._held) <= RELEASE_LIMIT

    def release(self) -> bytes:
        """After a quiet moment: the held tail when it is :attr:`releasable` (it stays held as
        context, so a value it begins still turns the rest into the marker), else nothing."""
        if not self.releasable:
            return b""
        self._covered = len(self._held)
        self._plain = True
        return self._held

    def feed(self, data: bytes) -> bytes:
        """The filtered output that ``data`` (the next bytes of the stream) lets out now."""
        if not self._patterns:
            return data
        return self._process(self._held + data, final=False)

    def finish(self) -> bytes:
        """The rest of the stream, at its end."""
        if not self._patterns:
            return b""
        return self._process(self._held, final=True)

    def _process(self, buf: bytes, *, final: bool) -> bytes:
        intervals = self._occurrences(buf)
        hold_start = len(buf) if final else len(buf) - self._possible_start(buf)
        cut = hold_start
        for start, end in intervals:  # an occurrence across the cut is written whole
            if start < cut < end:
                cut = end
        out: list[bytes] = []
        pos = self._covered
        plain = self._plain
        for start, end in intervals:
            if end <= pos:
                continue
            if start >= cut:
                break
            if start < pos:
                # It began in what was written: after a marker, no second one; after bytes
                # released as they were, the rest of the value becomes the marker.
                if plain:
                    out.append(MARKER)
                pos, plain = end, False
                continue
            out.append(buf[pos:start])
            out.append(MARKER)
            pos, plain = end, False
        if pos < cut:
            out.append(buf[pos:cut])
            pos, plain = cut, False
        self._held = buf[hold_start:]
        self._covered = max(0, pos - hold_start)
        self._plain = plain and self._covered > 0
        return b"".join(out)

    def _occurrences(self, buf: bytes) -> list[tuple[int, int]]:
        """Every occurrence of every pattern in ``buf``, merged where they overlap or touch."""
        found: list[tuple[int, int]] = []
        for pattern in self._patterns:
            size = len(pattern)
            index = buf.find(pattern)
            while index != -1:
                found.append((index, index + size))
                index = buf.find(pattern, index + 1)
        if not found:
            return found
        found.sort()
        merged = [found[0]]
        for start, end in found[1:]:
            last_start, last_end = merged[-1]
            if start <= last_end:
                merged[-1] = (last_start, max(last_end, end))
            else:
                merged.append((start, end))
        return merged

    def _possible_start(self, buf: bytes) -> int:
        """The length of the longest end of ``buf`` that is a proper prefix of a pattern."""
        best = 0
        size = len(buf)
        for pattern in self._patterns:
            first = pattern[:1]
            # Only starts that leave fewer bytes than the pattern, and more than ``best``.
            limit = size - best
            index = buf.find(first, max(0, size - len(pattern) + 1), limit)
            while index != -1:
                if pattern.startswith(buf[index:]):
                    best = size - index
                    break
                index = buf.find(first, index + 1, limit)
        return best


def masked_io(values: Iterable[bytes]) -> ChildIO:
    """How ``run --mask`` connects the child: a pseudo-terminal when our stdout is a terminal,
    else pipes; either way through a masker of ``values``."""
    patterns = patterns_of(values)
    from docker_pass.cli.mask_pty import PtyIO, stdout_is_terminal

    if stdout_is_terminal():
        return PtyIO(patterns)
    return PipeIO(patterns)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (a short write is continued)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PipeIO:
    """The child's stdout and stderr as pipes, each through its own masker to ours (when our
    stdout is not a terminal: a file, a pipe, a CI log)."""

    own_session = False

    def __init__(self, patterns: list[bytes]) -> None:
        self.patterns = patterns

    def popen_options(self) -> dict[str, object]:
        """The Popen arguments that give the child its output pipes."""
        import subprocess

        return {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}

    def started(self) -> None:
        """Called once the child runs (nothing to close here)."""

    def pump(self, child: subprocess.Popen[bytes]) -> None:
        """Copy the child's output, masked, to ours until both pipes end (or, once the child
        has exited, until they stay quiet: a background grandchild may hold them open)."""
        assert child.stdout is not None  # noqa: S101 - popen_options made the pipes
        assert child.stderr is not None  # noqa: S101
        streams = {
            child.stdout.fileno(): (1, StreamMasker(self.patterns)),
            child.stderr.fileno(): (2, StreamMasker(self.patterns)),
        }
        pump_streams(streams, child)
        child.stdout.close()
        child.stderr.close()

    def close(self) -> None:
        """Nothing to restore."""


def pump_streams(
    streams: dict[int, tuple[int, StreamMasker]],
    child: subprocess.Popen[bytes],
    *,
    extra: dict[int, int] | None = None,
) -> None:
    """Copy each source fd in ``streams`` to its target fd through its masker until it ends;
    ``extra`` maps source fds copied unmasked (our stdin to a terminal's master) and stops
    with the streams.  Once the child has exited, a quiet 0.2 s ends the copy.  A short held
    tail is written after :data:`RELEASE_AFTER` s of quiet (:meth:`StreamMasker.release`)."""
    selector = selectors.DefaultSelector()
    for fd in streams:
        selector.register(fd, selectors.EVENT_READ)
    for fd in extra or {}:
        selector.register(fd, selectors.EVENT_READ)
    broken: set[int] = set()
    try:
        while streams:
            exited = child.poll() is not None
            holding = any(masker.releasable for _, masker in streams.values())
            wait = RELEASE_AFTER if holding else None
            if exited:
                wait = 0.2 if wait is None else min(wait, 0.2)
            ready = selector.select(timeout=wait)
            if not ready and holding:
                for target, masker in streams.values():
                    _write(target, masker.release(), broken)
                continue
            if not ready and exited:
                break
            for key, _ in ready:
                fd = key.fd
                try:
                    data = os.read(fd, _CHUNK)
                except OSError:  # EIO: a terminal's other side is closed
                    data = b""
                if fd in streams:
                    target, masker = streams[fd]
                    out = masker.feed(data) if data else masker.finish()
                    _write(target, out, broken)
                    if not data:
                        selector.unregister(fd)
                        del streams[fd]
                elif extra is not None:
                    if not data:
                        selector.unregister(fd)
                        continue
                    try:
                        write_all(extra[fd], data)
                    except OSError:
                        selector.unregister(fd)
        for target, masker in streams.values():
            _write(target, masker.finish(), broken)
    finally:
        selector.close()


def _write(fd: int, data: bytes, broken: set[int]) -> None:
    if not data or fd in broken:
        return
    try:
        write_all(fd, data)
    except BrokenPipeError:
        broken.add(fd)  # our reader went away: the rest is dropped, the child runs on
