"""Writes with versions: save, delete, purge and undelete, each checked against KV v2.

The rule (:mod:`docker_pass.core.versions`), the same whoever calls and whatever was read
before — the plugin keeps no memory of reads:

- ``expected_version=None`` — a blind write: it replaces whatever is there.  It is still
  written with check-and-set, naming the version it found just before: a secret's other keys
  are kept (``{**data, key: value}``), so a write that another writer got in before would
  drop that writer's change to another key.  When that happens the write reads again and is
  made again (up to :data:`BLIND_ATTEMPTS` times): the value given always wins, no other key
  is lost, and a mount with ``cas_required`` takes it too.
- a version token — the ID must be that version: compared first (a refusal then costs no
  write), then written with ``cas=<that version>`` so that the vault itself refuses a version
  written in between.  A refusal is :class:`~docker_pass.core.errors.VersionConflictError`
  naming the version there now and when it began (who changed it KV does not record).
- :data:`~docker_pass.core.versions.NO_SECRET` — there must be no live secret: ``cas=0`` for
  a path that does not exist, or ``cas=<its current version>`` for one whose latest version
  is deleted (KV's ``cas=0`` refuses any existing path, and a deleted secret is no secret).

A key of a secret above (``a/b/c`` as the key ``c`` of ``a/b``) has the version of that
secret: a change to any of its keys is a change to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.backends.vault import kv
from docker_pass.backends.vault.errors import PLUGIN_NAME, CasConflictError, MissingPathError
from docker_pass.backends.vault.lookup import find_target, parent_holding, state_of
from docker_pass.core.errors import PluginError, VersionConflictError, shorten
from docker_pass.core.versions import NO_SECRET, describe_version

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.backends.vault.client import KvClient
    from docker_pass.backends.vault.lookup import Target
    from docker_pass.core.ids import ID

#: How often a blind write reads and writes again when another writer got in between.  Each
#: refusal means another write went in, so a writer among N at once needs at most N
#: attempts; the plugin's deadline bounds them all the same.
BLIND_ATTEMPTS = 32


def save(
    client: KvClient,
    id_: ID,
    value: bytes,
    metadata: Mapping[str, str],
    expected: str | None,
    forget: Callable[[str], None],
) -> str:
    """Write ``value`` as a new version of ``id_`` (see the module for ``expected``), then
    its ``custom_metadata`` when it differs; the version written."""
    text = kv.decode(id_, value)
    for _attempt in range(BLIND_ATTEMPTS):
        target = find_target(client, id_)
        cas = _cas_for(client, id_, target, expected)
        new = {**target.data, target.key_for(id_): text}
        try:
            written = client.write(target.path, new, cas)
        except CasConflictError:
            if expected is not None:
                raise conflict(client, id_, expected) from None
            continue  # a blind write: another writer got in between; read again
        finally:
            forget(target.path)
        # Custom metadata belongs to the path, not to a version, and KV has no check-and-set
        # for it: it is written right after the version that checked, and only when it
        # changes.  A writer getting in between the two calls would have its metadata
        # replaced, never its value; the new version already tells readers it changed.
        wanted = dict(metadata)
        if (wanted or not target.keyed) and wanted != target.custom:
            client.write_custom_metadata(target.path, wanted)
        return str(written) if written else ""
    raise PluginError(
        f"vault: {shorten(id_.value)} kept changing while it was written ({BLIND_ATTEMPTS} "
        "other writes got in between): nothing was written; try again"
    )


def delete(client: KvClient, id_: ID, expected: str | None, forget: Callable[[str], None]) -> bool:
    """Delete the latest version of the path ``id_`` (or drop the key ``<last>`` of the
    secret above it); whether there was a live secret.  With ``expected``, only if it is
    still that version (see :func:`_delete_version`)."""
    path = kv.kv_path(client.settings.prefix, id_.components)
    try:
        metadata = client.read_metadata(path)
    except MissingPathError:
        return _delete_key(client, id_, expected, forget)
    if not kv.is_live(metadata):  # a deleted path: the ID may still be a key above it
        return _delete_key(client, id_, expected, forget)
    current = metadata["current_version"]  # an int: is_live checked it
    try:
        if expected is None:
            client.delete_latest(path)
        else:
            if str(current) != expected:
                raise conflict(client, id_, expected)
            _delete_version(client, id_, path, current, expected)
    finally:
        forget(path)
    return True


def purge(client: KvClient, id_: ID, expected: str | None, forget: Callable[[str], None]) -> bool:
    """Delete every version of the path ``id_`` and its metadata; whether it existed.  With
    ``expected``: only if its current version (live or deleted) is that one, or it holds no
    live secret when ``NO_SECRET`` is expected.

    KV has no check-and-set for a metadata delete: a version written between the check and
    the purge is purged with the others.  That window is one round trip, and a purge is a
    person's explicit "every version, for good" of a secret they were shown."""
    path = kv.kv_path(client.settings.prefix, id_.components)
    try:
        metadata = client.read_metadata(path)
    except MissingPathError:
        return False
    if expected is not None:
        current = str(metadata.get("current_version"))
        live = kv.is_live(metadata)
        if expected != current and not (expected == NO_SECRET and not live):
            raise conflict(client, id_, expected)
    try:
        client.delete_all(path)
    finally:
        forget(path)
    return True


def undelete(client: KvClient, id_: ID, forget: Callable[[str], None]) -> bool:
    """Restore the deleted latest version of the path ``id_``; ``False`` when there is no
    such path.  A live secret, or a destroyed latest version, is refused with the reason."""
    path = kv.kv_path(client.settings.prefix, id_.components)
    try:
        metadata = client.read_metadata(path)
    except MissingPathError:
        return False
    current = metadata.get("current_version")
    if not isinstance(current, int) or current <= 0:
        return False
    name = shorten(id_.value)
    if kv.is_live(metadata):
        raise PluginError(
            f"vault: {name} is not deleted (version {current} is live): nothing to restore"
        )
    versions = metadata.get("versions")
    latest = versions.get(str(current)) if isinstance(versions, dict) else None
    if isinstance(latest, dict) and latest.get("destroyed"):
        raise PluginError(
            f"vault: {name}: its latest version ({current}) was destroyed and cannot be "
            "restored (set it again, or purge it: docker pass rm --purge-versions)"
        )
    try:
        client.undelete_versions(path, [current])
    finally:
        forget(path)
    return True


def conflict(client: KvClient, id_: ID, expected: str) -> VersionConflictError:
    """The refusal of a write that expected ``expected``: what is there now, and since when."""
    try:
        found, changed_at = state_of(client, id_)
    except PluginError:
        found, changed_at = "", None  # the refusal stands; what is there now is not known
    name = shorten(id_.value)
    if expected == NO_SECRET:
        what = f"already exists (version {found})"
    elif found == NO_SECRET:
        what = f"was deleted since it was read (version {expected} was read)"
    else:
        what = (
            f"changed since it was read (version {describe_version(expected)} was read, "
            f"version {describe_version(found)} is there now)"
        )
    return VersionConflictError(
        f"vault: {name} {what}: nothing was written",
        id_=id_.value,
        provider=PLUGIN_NAME,
        expected=expected,
        found=found,
        changed_at=changed_at,
    )


def _cas_for(client: KvClient, id_: ID, target: Target, expected: str | None) -> int:
    """The check-and-set index of a write that found ``target`` and expects ``expected``;
    a mismatch found now is refused before anything is written."""
    if expected is not None and target.token != expected:
        raise conflict(client, id_, expected)
    return target.version


def _delete_version(client: KvClient, id_: ID, path: str, version: int, expected: str) -> None:
    """Delete exactly ``version`` (the one expected), never a version written since: a
    latest-version delete after the check could remove another writer's new version.  If
    one was written in between, the old version is restored and the delete refused."""
    client.delete_versions(path, [version])
    try:
        now = client.read_metadata(path).get("current_version")
    except MissingPathError:
        return  # purged in between: gone either way
    if now != version:
        client.undelete_versions(path, [version])
        raise conflict(client, id_, expected)


def _delete_key(
    client: KvClient, id_: ID, expected: str | None, forget: Callable[[str], None]
) -> bool:
    """Drop the key ``<last>`` of the secret above ``id_`` (a new version without it, or a
    delete when it was the only key); ``False`` when no secret above holds it."""
    for _attempt in range(BLIND_ATTEMPTS):
        parent = parent_holding(client, id_)
        if parent is None:
            return False
        path, data, metadata = parent
        version = metadata.get("version")
        version = version if isinstance(version, int) else 0
        if expected is not None and str(version) != expected:
            raise conflict(client, id_, expected)
        rest = {k: v for k, v in data.items() if k != id_.components[-1]}
        try:
            if rest:
                client.write(path, rest, version)
            elif expected is not None:
                _delete_version(client, id_, path, version, expected)
            else:
                client.delete_latest(path)
        except CasConflictError:
            if expected is not None:
                raise conflict(client, id_, expected) from None
            continue  # another writer got in between: read again
        finally:
            forget(path)
        return True
    raise PluginError(
        f"vault: {shorten(id_.value)} kept changing while it was deleted ({BLIND_ATTEMPTS} "
        "other writes got in between): nothing was deleted; try again"
    )
