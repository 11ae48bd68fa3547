"""Version tokens of the keychain stores, and the conflict a write with a stale one raises.

Two kinds of token (:mod:`docker_pass.core.versions` says what a token is for):

- **The file store** keeps a change counter in each record, and every record it writes holds
  a fresh random ``revision``; its token is the counter and a digest of the record file
  (:func:`record_token`).  The record is the commit point of every change (value or
  metadata), so the token changes with every write, two in the same second included, and a
  secret deleted and made again never gets its old token back.
- **The Secret Service and the keyring store** cannot keep anything of ours in an item that
  Docker's own tool (and ``secret-tool``) also write: their token is a *keyed* digest of what
  ``get`` reads — the ID, the value, the metadata (:func:`content_token`).  It changes
  whenever the value or the metadata changes, by whichever program, in the same second or
  not, and nothing has to be read back after a save to know the new one.  A rewrite that
  stores exactly what was there keeps the token; a write checked against it then loses
  nothing, since the secret is what its writer read.

  Why keyed, and not the item's ``Modified`` time plus a plain hash: a plain hash of a value
  is a way to guess it (a short password is found by hashing candidates), and tokens are
  shown (``ls --json``, the TUI).  The key is 32 random bytes in a 0600 file in
  docker-pass's state directory (:data:`KEY_NAME`), made on first need, once: every process
  of the user reads the same one.  Without it a token says nothing about the value; the ID
  is hashed too, so two secrets with one value have different tokens.  ``Modified`` is left
  out because gnome-keyring counts it in whole seconds and not every service updates it for
  attribute changes; it is still reported as *when* a conflicting change was made.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import TYPE_CHECKING

from docker_pass.core.errors import StoreError, UnsafePathError, VersionConflictError
from docker_pass.core.private_files import ensure_private_dir, open_private
from docker_pass.core.store import xdg_path
from docker_pass.core.versions import NO_SECRET

try:  # hashlib would import OpenSSL's bindings too (~2.5 ms on `get`) for this one digest
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without CPython's private module
    from hashlib import blake2b

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from docker_pass.core.ids import ID

__all__ = [
    "KEY_NAME",
    "check_version",
    "content_token",
    "key_path",
    "record_token",
    "version_conflict",
]

#: The key of the content tokens, in docker-pass's state directory.
KEY_NAME = "version-key"
_KEY_BYTES = 32
#: Bytes of a digest in a token: a change goes unnoticed with odds of 2**-64.
_TOKEN_BYTES = 8
# Keeps these digests apart from any other use of the same key.
_PERSON = b"dp-version-v1"
# The key file is 64 hex digits and a newline; anything longer is not ours.
_KEY_FILE_LIMIT = 1024
# Loaded keys by path: one read per process (tests change the state directory per test).
_keys: dict[str, bytes] = {}


def key_path() -> str:
    """The file holding the key of the content tokens."""
    return os.path.join(xdg_path("state"), KEY_NAME)


def content_token(id_: ID, contents: Iterable[tuple[bytes, Mapping[str, str]]]) -> str:
    """The token of the secret ``id_`` whose items hold ``contents`` (value, metadata): one
    item, normally; several when other tools left duplicates (each changes the token)."""
    digest = blake2b(key=_key(), digest_size=_TOKEN_BYTES, person=_PERSON)
    _feed(digest, id_.value.encode())
    for value, metadata in contents:
        _feed(digest, value)
        for name, text in sorted(metadata.items()):
            _feed(digest, name.encode())
            _feed(digest, text.encode())
        digest.update(b"\x00")  # where one item's metadata ends
    return digest.hexdigest()


def record_token(count: int, record: bytes) -> str:
    """The file store's token of a record: its change counter and a digest of its bytes.

    The record holds no value (only the ID, metadata, times, and which file holds the value),
    so the digest needs no key.
    """
    return f"{count}-{blake2b(record, digest_size=4).hexdigest()}"


def check_version(
    id_: ID,
    expected: str | None,
    found: str,
    *,
    removing: bool = False,
    changed_at: float | None = None,
    changed_by: str = "",
) -> None:
    """Raise the conflict when a write expecting ``expected`` finds ``found`` (``NO_SECRET``
    when there is no such secret; ``""`` when it cannot be read); ``None`` (a blind write)
    always passes, and ``""`` (no version known) never does."""
    if expected is None or (expected == found and expected):
        return
    raise version_conflict(
        id_, expected, found, removing=removing, changed_at=changed_at, changed_by=changed_by
    )


def version_conflict(
    id_: ID,
    expected: str,
    found: str,
    *,
    removing: bool = False,
    changed_at: float | None = None,
    changed_by: str = "",
) -> VersionConflictError:
    """The error of a write that expected ``expected`` and found ``found``; it says what is
    there now and that nothing was done, never a value."""
    if found == NO_SECRET:
        what = f"{id_.value} was removed since version {expected} was read"
    elif expected == NO_SECRET:
        what = f"{id_.value} already exists (version {found})"
    elif not found:
        what = f"{id_.value} cannot be read as it is stored now (damaged)"
    else:
        what = (
            f"{id_.value} changed since it was read (version {expected} was read, "
            f"{found} is stored now)"
        )
    if changed_by:
        what += f", by {changed_by}"
    done = "nothing was removed" if removing else "nothing was written"
    return VersionConflictError(
        f"{what}; {done}",
        id_=id_.value,
        expected=expected,
        found=found,
        changed_at=changed_at,
        changed_by=changed_by,
    )


def _feed(digest: blake2b, part: bytes) -> None:
    """Add ``part`` with its length first, so that no two sequences of parts feed alike."""
    digest.update(len(part).to_bytes(8, "big"))
    digest.update(part)


def _key() -> bytes:
    """The key of the content tokens (read once per process; made on first need)."""
    path = key_path()
    key = _keys.get(path)
    if key is None:
        key = _keys[path] = _load_or_make_key(path)
    return key


def _load_or_make_key(path: str) -> bytes:
    """The key in ``path``; made when there is none, atomically and only once: a link, which
    never replaces a file, so two processes making it at once both end up with the first."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, f".{KEY_NAME}.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        with suppress(FileNotFoundError):
            return _read_key(path)
        ensure_private_dir(directory)
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(_KEY_BYTES).hex().encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: its key is the key
        finally:
            os.unlink(tmp)
        return _read_key(path)
    except UnsafePathError as exc:
        raise UnsafePathError(f"the key of version tokens: {exc}") from None
    except OSError as exc:
        raise StoreError(
            f"cannot read or make the key of version tokens {path}: {exc.strerror or exc}"
        ) from None


def _read_key(path: str) -> bytes:
    """The key in ``path``; ``FileNotFoundError`` when there is none, UnsafePathError for a
    file that is not ours alone, StoreError (with what to do) when it holds no key of ours."""
    fd = open_private(path, os.O_RDONLY)
    try:
        raw = os.read(fd, _KEY_FILE_LIMIT)
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise StoreError(
            f"{path} is not a key of version tokens (damaged); remove it and docker-pass makes "
            "a new one (every version shown before then changes once)"
        )
    return key
