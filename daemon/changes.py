"""Noticing, without waiting, that a file or directory the daemon answers from may have changed.

The daemon answers a repeated ``GetSecrets`` on its event loop from what the engine resolved
before (:mod:`.routes`), only while nothing that answer depends on has changed: the config
file, the run state file, a warm store's directory.  Asking the file system (``stat``) could
block the loop (a slow disk, a hung network mount); here the kernel says so instead.  Linux's
inotify queues an event for a watched directory inside the very system call that changes it,
before that call returns: a change that any process finished before a client sent its request
is in the queue when the loop handles the request.  :meth:`ChangeWatch.poll` reads the queue
with ``read()`` on a non-blocking descriptor, which returns what is queued, or ``EAGAIN`` at
once: it touches no disk, no network, and no lock that another thread holds.

Arming watches (``inotify_add_watch`` resolves a path, which may block) is done on engine
threads only (:meth:`ChangeWatch.arm`).  For each path, every directory from ``/`` down is
watched for the next name on the way: a parent renamed, replaced, created or removed changes
what the path names, and such an event disarms every path until the next arming.  The last
directory is watched for the file's name, or for every entry when the path is a directory.  A
directory that is not there yet is covered by its parent's watch: creating it is an event.

What inotify cannot see is never armed: changes made from another host to a network file
system (only the local file systems of :data:`LOCAL_FILE_SYSTEMS` are armed, by their
``statfs`` type); a file system mounted over a watched directory is not seen either.  Without
inotify (not Linux, or no instance left) nothing is armed, and every request takes the
engine's ordinary path.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

log = logging.getLogger("docker_pass.engine")

# <sys/inotify.h>
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_UNMOUNT = 0x2000
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_MASK_ADD = 0x20000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
#: Events about a watched directory itself, or the queue: what they mean is unknown.
_SELF = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW
#: A directory on the way to a path: names appearing and disappearing.
_ON_THE_WAY = IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
#: The last directory: also files written (or truncated) in place, or their modes changed.
#: Not ``IN_CLOSE_WRITE``: a file opened for writing and closed unwritten (the file store's
#: lock file, on every read) is no change, and one that was written said ``IN_MODIFY``.
_CONTENTS = _ON_THE_WAY | IN_MODIFY | IN_ATTRIB
_EVENT = struct.Struct("iIII")
#: ``statfs`` types (linux/magic.h) of local file systems: ext2/3/4, xfs, btrfs, tmpfs,
#: overlay, f2fs, zfs, bcachefs, ramfs.
LOCAL_FILE_SYSTEMS = frozenset(
    {
        0xEF53,
        0x58465342,
        0x9123683E,
        0x01021994,
        0x794C7630,
        0xF2F52010,
        0x2FC12FC1,
        0xCA451A4E,
        0x858458F6,
    }
)


class _Interest:
    """What events of one watched directory mean: ``names`` -> whether the name is on the
    way to a path (its change disarms) or a watched file (its change is a change);
    ``entries``: every entry is watched (a store's directory); ``retired``: a watch no path
    needs any more (its events, its removal included, mean nothing)."""

    __slots__ = ("entries", "names", "retired")

    def __init__(self) -> None:
        self.names: dict[str, bool] = {}
        self.entries = False
        self.retired = False


class ChangeWatch:
    """inotify over the files and directories the loop answers from.

    :meth:`poll` (on the loop) drains the queue and returns :attr:`changes`, a count that
    grows with every change seen; :meth:`armed` says which paths are watched whole now.  A
    caller that read the files after arming and after a :meth:`poll` may trust what it read
    for as long as later polls return the same count.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        """``enabled=False``: a watch that arms nothing (for an application made in tests)."""
        self._libc: Any = None
        self._fd = -1
        if enabled:
            try:
                self._libc = _inotify_calls()
                self._fd = int(self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC))
            except (OSError, AttributeError):  # not Linux (no such call)
                self._fd = -1
            if self._fd < 0:
                log.info("inotify is not available: every GetSecrets asks the engine")
        #: Changes seen so far (every :meth:`poll` that found one adds one).
        self.changes = 0
        #: Grows with every event that disarms (a directory on the way changed, or unknown).
        self._structure = 0
        #: ``(structure, paths)``: the paths armed while ``structure`` was current.
        self._armed: tuple[int, frozenset[str]] = (0, frozenset())
        #: Watch descriptor -> what its events mean.  Replaced whole by :meth:`arm`, never
        #: changed in place: the loop reads it without a lock.
        self._table: dict[int, _Interest] = {}
        #: Every path asked for so far, whether a directory: re-armed together.
        self._wanted: dict[str, bool] = {}
        #: The paths asked for when some could not be watched (a network file system).
        self._refused: dict[str, bool] | None = None
        #: Serialises arming (engine threads only; the loop never takes it).
        self._arming = threading.Lock()
        self._warned = False

    @property
    def available(self) -> bool:
        """Whether inotify works here."""
        return self._fd >= 0

    def fileno(self) -> int:
        """The inotify descriptor (``-1`` without one), for a loop to read when it is ready
        (the change feed's watchers, :mod:`.feed_watch`)."""
        return self._fd

    def armed(self) -> frozenset[str]:
        """The paths whose every change is seen now."""
        structure, paths = self._armed
        return paths if structure == self._structure else frozenset()

    def poll(self) -> int:
        """Read what the kernel queued (never waits); :attr:`changes` afterwards."""
        if self._fd < 0:
            return self.changes
        changed = moved = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError:  # the descriptor is gone (closed): nothing is known any more
                changed = moved = True
                break
            table = self._table
            for wd, mask, name in _events(data):
                meaning = _meaning(table.get(wd), mask, name)
                changed = changed or meaning is not None
                moved = moved or bool(meaning)
        if moved:
            self._structure += 1
        if changed:
            self.changes += 1
        return self.changes

    def arm(self, files: Iterable[str] = (), directories: Iterable[str] = ()) -> bool:
        """Watch ``files`` and ``directories`` (with every path asked for before); whether
        all of them are armed now.  On an engine thread: resolving paths may block."""
        if self._fd < 0:
            return False
        with self._arming:
            for path in files:
                self._wanted.setdefault(os.path.abspath(path), False)
            for path in directories:
                self._wanted[os.path.abspath(path)] = True
            if self.armed() == self._wanted.keys():
                return True  # armed already (the common case: no system call)
            if self._refused == self._wanted:
                return False  # these could not be watched: no system calls to learn it again
            structure = self._structure
            table: dict[int, _Interest] = {}
            whole = all(self._watch(path, is_dir, table) for path, is_dir in self._wanted.items())
            dropped = [wd for wd, old in self._table.items() if wd not in table and not old.retired]
            for wd in self._table.keys() - table.keys():
                table[wd] = _RETIRED
            self._table = table  # published before the removals, whose events it then ignores
            for wd in dropped:
                self._libc.inotify_rm_watch(self._fd, wd)
            if not whole:
                self._refused = dict(self._wanted)
                return False
            self._armed = (structure, frozenset(self._wanted))
            return structure == self._structure

    def close(self) -> None:
        """Stop watching (the descriptor is closed; nothing is armed any more)."""
        fd, self._fd = self._fd, -1
        self._structure += 1
        if fd >= 0:
            os.close(fd)

    def _watch(self, path: str, is_dir: bool, table: dict[int, _Interest]) -> bool:
        """Add the watches that cover ``path`` to ``table``; whether they do."""
        names = [part for part in path.split(os.sep) if part]
        directory = os.sep
        for index, name in enumerate(names):
            last = index == len(names) - 1
            wd = self._add(directory, _CONTENTS if last else _ON_THE_WAY)
            if wd is None:
                return False
            if wd < 0:
                return True  # not there: the watch above sees it appear
            interest = table.setdefault(wd, _Interest())
            on_the_way = not last or is_dir
            interest.names[name] = interest.names.get(name, False) or on_the_way
            directory = os.path.join(directory, name)
        if is_dir:
            wd = self._add(directory, _CONTENTS)
            if wd is None:
                return False
            if wd >= 0:
                table.setdefault(wd, _Interest()).entries = True
        return True

    def _add(self, directory: str, mask: int) -> int | None:
        """A watch on ``directory``: its descriptor; -1 if it is not there (or not a
        directory); ``None`` if it cannot be watched (then nothing is armed)."""
        raw = os.fsencode(directory)
        wd = int(self._libc.inotify_add_watch(self._fd, raw, mask | IN_MASK_ADD | IN_ONLYDIR))
        if wd < 0:
            code = _errno()
            if code in (errno.ENOENT, errno.ENOTDIR):
                return -1
            self._say_once(f"cannot watch {directory}: {os.strerror(code)}")
            return None
        kind = _file_system(self._libc, raw)
        if kind not in LOCAL_FILE_SYSTEMS:
            self._say_once(f"{directory} is not on a local file system (type {kind:#x})")
            return None
        return wd

    def _say_once(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.info("GetSecrets asks the engine every time: %s", why)


_RETIRED = _Interest()
_RETIRED.retired = True


def _meaning(interest: _Interest | None, mask: int, name: str) -> bool | None:
    """``None``: nothing we depend on; ``False``: a change; ``True``: a change that disarms
    (something on the way to a path, or unknown)."""
    if interest is None:
        return True  # a watch added meanwhile, not yet in the table: unknown
    if interest.retired:
        return None
    if mask & _SELF:
        return True
    on_the_way = interest.names.get(name)
    if on_the_way is not None:
        return on_the_way
    return False if interest.entries and name else None


def _events(data: bytes) -> Iterator[tuple[int, int, str]]:
    """``(wd, mask, name)`` of each ``struct inotify_event`` in ``data``."""
    offset = 0
    while offset + _EVENT.size <= len(data):
        wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
        start = offset + _EVENT.size
        name = os.fsdecode(data[start : start + length].split(b"\0", 1)[0])
        offset = start + length
        yield wd, mask, name


def _inotify_calls() -> Any:
    """libc with the calls this module makes, their types declared."""
    import ctypes  # the daemon only, once (~3.5 ms)

    libc = ctypes.CDLL(None, use_errno=True)
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    return libc


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _file_system(libc: Any, path: bytes) -> int:
    """The ``statfs`` type of the file system holding ``path`` (0 if unknown)."""
    import ctypes

    # struct statfs starts with f_type, a long (__fsword_t) on Linux; 128 bytes hold it all.
    buffer = ctypes.create_string_buffer(256)
    if libc.statfs(path, buffer) != 0:
        return 0
    return ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF
