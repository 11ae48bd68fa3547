"""The age-encrypted file store: where the ``docker-pass`` plugin keeps secrets when no Secret
Service answers (headless Linux, CI, WSL) or when configured to.

Layout of the store directory (default ``$XDG_DATA_HOME/docker-pass/store``; every directory the
store creates is 0700 and every file 0600, created with those modes)::

    .lock                     target of ``flock``: writers exclusive, readers shared
    <sha256(id)>.json         the record: ID, metadata, times, and which value slot is live
    <sha256(id)>.a.age        the value, in the age format (slot ``a``) ...
    <sha256(id)>.b.age        ... or slot ``b``: a save writes the slot that is not live
    .index/listing.json       every record's ID, metadata and time in one file, for ``list``
                              (never a value; rebuilt from the records when stale or missing:
                              :mod:`.index`)

Design choices, and why:

- **Metadata is plain JSON, not encrypted.**  Docker's keychain store writes metadata as Secret
  Service attributes, which the spec says are not secret (they are stored and searched in the
  clear), and Docker's own age store keeps ``metadata.json`` public too.  The ID is in the same
  class of data.  Plain records let ``list`` work without key material: no identity, no
  passphrase, no decryption (with a passphrase, each decryption is a ~1 s scrypt).
- **Filenames are the SHA-256 of the ID.**  IDs may hold ``..`` and ``.`` components, may differ
  only in case (and macOS/Windows file systems fold case), and may be longer than a file name
  can be; a fixed-length lowercase hex digest has none of those problems and can never name a
  path outside the store.  The record holds the ID itself.
- **Two value slots.**  A save encrypts into the slot that is not live, then atomically replaces
  the record, which is the single commit point, then removes the old slot.  A crash at any
  moment leaves a record that names a complete value file (old or new), never a mix of the new
  value and old metadata.
- **Key material** (:mod:`.keys`).  An age X25519 identity file (what ``age-keygen`` writes;
  the ``age`` CLI decrypts the value files with ``age -d -i identity.txt``), created 0600 on
  first save; or a passphrase (age's scrypt recipient) from ``DOCKER_PASS_FILE_PASSPHRASE``.
- **No traps** (:mod:`docker_pass.core.private_files`).  Every file is opened with
  ``O_NOFOLLOW`` and must be a regular file of ours that nobody else can write; the store
  directory and the parents it creates are 0700, and an existing store directory that other
  users can enter is made 0700 with a warning (it is ours, so tightening it loses nothing and
  keeps the store working; a directory of another user is refused).  A symbolic link in the
  store, or as the identity file, is refused with an error naming it.
- **One damaged record blocks nothing.**  A record or value file that is empty, truncated, not
  ours, a symbolic link, or owned by another user is skipped by ``list`` and by ``resolve`` of
  a pattern, with a warning naming the secret's ID when the record gives it and the file
  otherwise; ``get`` of that ID (and ``resolve`` of it alone) fails with a one-line error, and
  ``delete`` of that ID removes its files.  ``list`` reads records only, so a secret whose
  value file is damaged is still listed (``rm --all`` removes it), and fails when read.
  Warnings go to the ``warn`` callback (default: ``Warning: …`` on stderr, which the CLI
  passes on unchanged), once per message per store, and are kept in :attr:`FileStore.warnings`.
- **Listing reads one file.**  ``list`` answers from the listing index while the store
  directory's stamp (device, inode, modification time) is the one the index was built at;
  every save and delete patches the index (or, in a burst of changes, drops it).  Otherwise
  ``list`` reads every record, as ``resolve`` of a pattern always does, and writes the index
  again.  At 100,000 secrets that is ~0.3 s instead of several seconds.  A record edited in
  place by hand is listed as indexed until the store next changes (``get`` reads the record
  itself); the index module says why.

The modules, one concern each: :mod:`.store` (:class:`FileStore`: the verbs under the lock),
:mod:`.records` (records, file names, safe reads and atomic writes), :mod:`.keys` (the identity
file or passphrase: encrypt, decrypt), :mod:`.index` (the listing index), :mod:`.warm` (values
the engine daemon keeps decrypted).
"""

from __future__ import annotations

from docker_pass.backends.keychain.filestore.keys import PASSPHRASE_ENV
from docker_pass.backends.keychain.filestore.store import FileStore
from docker_pass.backends.keychain.filestore.warm import WARM_VALUES

__all__ = ["PASSPHRASE_ENV", "WARM_VALUES", "FileStore"]
