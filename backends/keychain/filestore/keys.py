"""The file store's key material: an age X25519 identity file, or a passphrase.

Without a passphrase, values are encrypted to the identity in the identity file: what
``age-keygen`` writes, so ``age -d -i identity.txt FILE`` decrypts a value file.  The file is
created 0600 on the first save, never over another one, and never while the store holds values
encrypted to an identity (the key was lost or moved: a fresh one would split the store in two).
With a passphrase (``DOCKER_PASS_FILE_PASSPHRASE``), values use age's scrypt recipient.

Messages name the identity file and a line number, never a line's text (it is key material),
and never the passphrase.  ``pyrage`` is imported where it is used: listing never pays for it.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Literal

from docker_pass.backends.keychain.filestore.records import describe, fsync_dir, now, read_bytes
from docker_pass.core.errors import StoreError, UnsafePathError
from docker_pass.core.private_files import ensure_private_dir, open_private
from docker_pass.core.regular_files import FileReadError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

#: The environment variable that switches the store from the identity file to a passphrase.
PASSPHRASE_ENV = "DOCKER_PASS_FILE_PASSPHRASE"  # noqa: S105 - a variable name, not a secret

AGE_MAGIC = b"age-encryption.org/v1\n"
_IDENTITY_PREFIX = "AGE-SECRET-KEY-1"

KeyMode = Literal["identity", "passphrase"]


def passphrase_from(environ: Mapping[str, str]) -> str | None:
    """The passphrase ``environ`` sets (``None`` when it is unset or empty)."""
    return environ.get(PASSPHRASE_ENV) or None


class AgeKey:
    """Encrypts and decrypts the values of the store at ``values_dir``.

    With ``passphrase``, to and from that passphrase; otherwise to and from the X25519 identity
    at ``identity_path``, created on the first :meth:`encrypt`.  ``warn`` receives warnings
    (an identity file others can read, a directory tightened).  Raises :class:`StoreError`
    for an empty passphrase.
    """

    def __init__(
        self,
        identity_path: Path,
        passphrase: str | None,
        values_dir: Path,
        warn: Callable[[str], None],
    ) -> None:
        if passphrase == "":
            raise StoreError("the file store passphrase is empty; set a non-empty passphrase")
        self.identity_path = identity_path
        self._passphrase = passphrase
        self._values_dir = values_dir
        self._warn = warn
        self._identities: list[Any] | None = None

    @property
    def mode(self) -> KeyMode:
        """Which key material encrypts new values: the identity file or a passphrase."""
        return "passphrase" if self._passphrase is not None else "identity"

    def describe(self) -> str:
        """The key material, for people: ``passphrase`` or ``identity PATH``."""
        if self._passphrase is not None:
            return "passphrase"
        return f"identity {self.identity_path}"

    def __repr__(self) -> str:
        # Spelled out so that the passphrase can never show up in a repr.
        return f"AgeKey(mode={self.mode!r}, identity_path={str(self.identity_path)!r})"

    def forget(self) -> None:
        """Drop the identities read from the identity file (read again when next needed)."""
        self._identities = None

    def encrypt(self, value: bytes) -> bytes:
        """``value`` in the age format, to the passphrase or the identity."""
        import pyrage

        if self._passphrase is not None:
            ciphertext: bytes = pyrage.passphrase.encrypt(value, self._passphrase)
        else:
            ciphertext = pyrage.encrypt(value, [self._recipient()])
        return ciphertext

    def decrypt(self, ciphertext: bytes, subject: str) -> bytes:
        """The value in ``ciphertext`` (an age file); ``subject`` (``ID (path)``) names it in
        the :class:`StoreError` raised when this key cannot decrypt it, which says why."""
        import pyrage

        stanza = first_stanza(ciphertext)
        what = f"cannot decrypt {subject}"
        if self._passphrase is not None:
            if stanza != "scrypt":
                raise StoreError(
                    f"file store: {what}: it is encrypted to an age identity, not a passphrase; "
                    f"unset {PASSPHRASE_ENV} to read it with the identity file"
                )
            try:
                value: bytes = pyrage.passphrase.decrypt(ciphertext, self._passphrase)
            except pyrage.DecryptError:
                raise StoreError(
                    f"file store: {what}: wrong passphrase (check {PASSPHRASE_ENV})"
                ) from None
            return value
        if stanza == "scrypt":
            raise StoreError(
                f"file store: {what}: it is encrypted with a passphrase; "
                f"set {PASSPHRASE_ENV} to read it"
            )
        identities = self._load_identities()
        try:
            value = pyrage.decrypt(ciphertext, identities)
        except pyrage.DecryptError:
            raise StoreError(
                f"file store: {what}: the identity in {self.identity_path} does not "
                "match it, or the file is damaged"
            ) from None
        return value

    # -- the identity file -------------------------------------------------------------------

    def _recipient(self) -> Any:
        """The public key new values are encrypted to; creates the identity on first use."""
        # lexists: a dangling link in its place is refused when read, never written through.
        if not os.path.lexists(self.identity_path):
            self._refuse_new_identity_over_old_values()
            self._create_identity()
        return self._load_identities()[0].to_public()

    def _refuse_new_identity_over_old_values(self) -> None:
        """A missing identity next to values encrypted to it means the key was lost or moved.

        Making a fresh one would silently split the store in two; say what happened instead.
        Unless the identity is there after all: another writer created it (and saved a value
        encrypted to it) since we looked, and it is the one to use.
        """
        if not self._values_dir.is_dir():
            return
        with os.scandir(self._values_dir) as entries:
            for entry in entries:
                if not entry.name.endswith(".age"):
                    continue
                try:
                    fd = open_private(entry.path, os.O_RDONLY)
                except (OSError, UnsafePathError):
                    continue  # not one of our value files: it says nothing about the key
                with os.fdopen(fd, "rb") as handle:
                    if first_stanza(handle.read(4096)) == "X25519":
                        if os.path.lexists(self.identity_path):
                            return  # created by another writer meanwhile
                        raise StoreError(
                            f"file store: the age identity {self.identity_path} is missing but "
                            f"{self._values_dir} holds values encrypted to an identity; restore "
                            "the identity file (or point the store at it)"
                        )

    def _create_identity(self) -> None:
        """Write a new X25519 identity in the format of ``age-keygen``, 0600, never overwriting.

        The file is written under a temporary name and published with ``link``, which fails if
        another process published one first; then everyone uses that one.
        """
        import pyrage

        identity = pyrage.x25519.Identity.generate()
        text = (f"# created: {now()}\n# public key: {identity.to_public()}\n{identity}\n").encode()
        path = self.identity_path
        try:
            ensure_private_dir(path.parent, warn=self._warn)
        except UnsafePathError as exc:
            raise UnsafePathError(f"file store: {exc}") from None
        tmp = path.parent / f".{path.name}.{os.urandom(8).hex()}.tmp"
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.write(fd, text)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process created it meanwhile: use theirs
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                # No hard links on this file system: create the final name exclusively.
                with suppress(FileExistsError):
                    final = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        os.write(final, text)
                        os.fsync(final)
                    finally:
                        os.close(final)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
        fsync_dir(path.parent)

    def _load_identities(self) -> list[Any]:
        """The identities in the identity file (``age-keygen`` format); StoreError if unusable.

        Messages name the file and line, never the line's text: it is key material.
        """
        if self._identities is not None:
            return self._identities
        import pyrage

        path = self.identity_path
        try:
            raw, info = read_bytes(path)  # a regular file of ours, under the size limit
            mode = stat.S_IMODE(info.st_mode)
            text = raw.decode("utf-8")
        except FileNotFoundError:
            raise StoreError(
                f"file store: the age identity {path} is missing; the store cannot decrypt "
                f"without it (restore it, or set {PASSPHRASE_ENV} if the store uses a passphrase)"
            ) from None
        except (UnsafePathError, FileReadError) as exc:
            raise StoreError(f"file store: refusing the age identity: {exc}") from None
        except OSError as exc:
            raise StoreError(
                f"file store: cannot read the age identity {path}: {describe(exc)}"
            ) from None
        except UnicodeDecodeError:
            raise StoreError(f"file store: the age identity {path} is not UTF-8 text") from None
        if mode & 0o044:
            # A leak, not a trap: others could read the key, but not change what we decrypt.
            self._warn(
                f"file store: the age identity {path} is readable by other users "
                f"(mode {mode:04o}); make it private with: chmod 600 {path}"
            )
        identities = []
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            if not line.startswith(_IDENTITY_PREFIX):
                raise StoreError(
                    f"file store: {path} line {number} is not an age X25519 identity "
                    "(plugin and SSH identities are not supported)"
                )
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise StoreError(
                    f"file store: {path} line {number} is not a valid age identity"
                ) from None
        if not identities:
            raise StoreError(f"file store: {path} holds no age identity")
        self._identities = identities
        return identities


def first_stanza(ciphertext: bytes) -> str | None:
    """The type of the first recipient stanza of an age file (``X25519``, ``scrypt``), if any."""
    if not ciphertext.startswith(AGE_MAGIC):
        return None
    line = ciphertext[len(AGE_MAGIC) :].split(b"\n", 1)[0]
    if not line.startswith(b"-> "):
        return None
    parts = line[3:].split(b" ", 1)
    return parts[0].decode("ascii", "replace") if parts[0] else None
