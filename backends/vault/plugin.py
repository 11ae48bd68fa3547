"""The ``vault`` plugin: read, list, write and delete secrets in a Vault / OpenBao KV v2 mount.

``docker pass plugins vault setup --address URL …`` checks a token (``lookup-self``) or an
AppRole login, stores the token or secret ID with the ``docker-pass`` keychain plugin, writes
the other answers to ``plugins.vault`` in the config file, and enables this plugin (the form,
its check and the settings: :mod:`.settings`).  The mapping of IDs to KV paths and keys is
:mod:`.kv`'s; listing is :mod:`.walk`'s pruned walk; failures are classified by :mod:`.errors`.

Versions (:mod:`docker_pass.core.versions`): a secret's version token is its KV version.  A
write without an expected version replaces whatever is there; one with an expected version is
refused with :class:`~docker_pass.core.errors.VersionConflictError` unless the secret is still
that version (KV check-and-set; the rules: :mod:`.writes`).  The plugin keeps no memory of
what it read: ``set`` is the same call embedded and through the daemon.

Deletes are KV's: the latest version is deleted and the older ones stay.  A secret whose
latest version is deleted (or destroyed) is no live secret — not read, not matched, not
listed unless a listing asks for deleted secrets (``list(pattern, deleted=True)``, marked
``SecretInfo.deleted``); :meth:`VaultPlugin.undelete` restores it, :meth:`VaultPlugin.purge`
removes every version.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from docker_pass.backends.vault import kv, writes
from docker_pass.backends.vault.auth import TokenKeeper
from docker_pass.backends.vault.errors import (
    PLUGIN_NAME,
    MissingPathError,
    PermissionDeniedError,
    VaultSettings,
)
from docker_pass.backends.vault.lookup import MetadataCache, listed_info, parent_holding
from docker_pass.backends.vault.settings import Tuning, settings_from_config
from docker_pass.backends.vault.walk import (
    DEFAULT_CACHE_TTL,
    DEFAULT_CONCURRENCY,
    DEFAULT_WALK_BUDGET,
    Folder,
    TreeCache,
    walk,
)
from docker_pass.core import __version__
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import (
    FatalPluginError,
    PluginError,
    SecretNotFoundError,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core.plugin_settings import PluginSettings

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Mapping
    from concurrent.futures import ThreadPoolExecutor

    from docker_pass.backends.vault.client import KvClient
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.setup import Setup


class VaultPlugin:
    """``vault``: a realm served from a KV v2 mount of HashiCorp Vault or OpenBao."""

    name = PLUGIN_NAME
    version = __version__
    pattern = Pattern("**")
    configurable = True
    capabilities = READ_WRITE
    #: Off until ``docker pass plugins vault setup`` enables it.
    enabled_by_default = False
    #: Its clients are per thread and its caches locked: the daemon may call it concurrently.
    concurrent = True
    #: Reads carry the KV version; writes take ``expected_version`` (:mod:`.writes`).
    versioned = True

    @classmethod
    def setup_form(cls) -> Setup:
        """What ``docker pass plugins setup vault`` and the TUI's setup form ask for."""
        from docker_pass.backends.vault.settings import setup_form

        return setup_form()

    def __init__(
        self,
        settings: VaultSettings | None = None,
        read_secret: Callable[[str], str | None] | None = None,
        cache_ttl: float | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        walk_budget: int | None = None,
    ) -> None:
        """Arguments override the config file (tests); otherwise it is read on start."""
        self._given = settings
        self._read_secret = read_secret
        self._given_tuning = {
            "cache_ttl": cache_ttl,
            "concurrency": concurrency,
            "timeout": timeout,
            "walk_budget": walk_budget,
        }
        self.settings: VaultSettings | None = settings
        self.client: KvClient | None = None
        self._keeper: TokenKeeper | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.cache = TreeCache(DEFAULT_CACHE_TTL)
        self.metadata_cache = MetadataCache(DEFAULT_CACHE_TTL)
        self.concurrency = DEFAULT_CONCURRENCY
        self.walk_budget = DEFAULT_WALK_BUDGET

    def __repr__(self) -> str:
        return f"VaultPlugin({self.settings!r})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Read the settings and the token, and check the token (``lookup-self``)."""
        from docker_pass.backends.vault.auth import read_from_keychain
        from docker_pass.backends.vault.client import KvClient

        section = PluginSettings(PLUGIN_NAME)
        settings = self._given or settings_from_config(section)
        tuning = Tuning(section, self._given_tuning)
        self.settings = settings
        self.cache = TreeCache(tuning.cache_ttl)
        self.metadata_cache = MetadataCache(tuning.cache_ttl)
        self.concurrency = tuning.concurrency
        self.walk_budget = tuning.walk_budget
        client = KvClient(settings, timeout=tuning.timeout)
        keeper = TokenKeeper(client, settings, self._read_secret or read_from_keychain)
        try:
            keeper.start()
        except PluginError as exc:
            if isinstance(exc, FatalPluginError):
                client.close()
                raise
            # Not reachable now: start anyway, each request says so until it answers.
            keeper.last_problem = str(exc)
        self.client, self._keeper = client, keeper
        keeper.run_renewals()

    def stop(self) -> None:
        """Stop renewing, forget the token and the caches."""
        if self._keeper is not None:
            self._keeper.stop()
            self._keeper = None
        if self.client is not None:
            self.client.close()
            self.client = None
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        self.cache.clear()
        self.metadata_cache.clear()

    def storage(self) -> str:
        """Address (without credentials), mount and prefix, for ``plugins ls`` and the TUI."""
        from docker_pass.core.outside import clean_outside

        settings = self.settings
        if settings is None:
            return ""
        text = f"{settings.shown_address} mount {settings.mount}"
        text += f" prefix {settings.prefix}" if settings.prefix else " (no prefix)"
        if settings.namespace:
            text += f" namespace {settings.namespace}"
        if settings.role_id:
            text += "; AppRole"
        keeper = self._keeper
        if keeper is not None and keeper.last_problem:
            text += f"; last problem: {keeper.last_problem}"
        return clean_outside(text, 1000)

    # -- reading ----------------------------------------------------------------------------

    def list(self, pattern: Pattern, *, deleted: bool = False) -> builtins.list[SecretInfo]:
        """Secrets matching ``pattern`` (no values), each with its version, change time and
        metadata; with ``deleted``, also those whose latest version is deleted (marked).

        An exact ID is one metadata read; anything else a walk, then a metadata read of each
        secret found (at most ``concurrency`` at once, kept as long as the walk's folders):
        LIST shows a deleted secret too, and only its metadata tells."""
        if pattern.is_literal:
            info = self._exact_info(pattern.as_id(), deleted=deleted)
            return [info] if info is not None else []
        found = self._walk(pattern)
        pool = self._executor()
        infos = [
            info
            for info in pool.map(lambda c: self._walked_info(c, deleted=deleted), found)
            if info is not None
        ]
        head = pattern.literal_head
        if head and pattern.matches("/".join(head)):
            info = self._exact_info(ID("/".join(head)), quiet=True, deleted=deleted)
            if info is not None:
                infos.append(info)
        infos.sort(key=lambda i: i.id.value)
        return infos

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes matching ``pattern``: an exact ID is one read; a pattern, a walk and a
        read of each secret found (at most ``concurrency`` at once)."""
        if pattern.is_literal:
            try:
                return [self.get(pattern.as_id())]
            except SecretNotFoundError:
                return []
        found = self._walk(pattern)
        head = pattern.literal_head
        extra = [head] if head and pattern.matches("/".join(head)) else []
        pool = self._executor()
        results = list(pool.map(lambda c: self._read_matching(c, pattern), found))
        for components in extra:
            with contextlib.suppress(SecretNotFoundError, PermissionDeniedError):
                results.append([self.get(ID("/".join(components)))])
        out = [envelope for batch in results for envelope in batch]
        out.sort(key=lambda e: e.id.value)
        return out

    def get(self, id_: ID) -> Envelope:
        """One secret: the KV path ``id_``, else the key ``<last>`` of the path above it."""
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components)
        try:
            data, metadata = client.read(path)
        except MissingPathError:
            return self._keyed(id_)
        return kv.envelope(id_, data[kv.value_key(data, id_)], metadata, PLUGIN_NAME)

    # -- writing ----------------------------------------------------------------------------

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Write a new version, keeping a secret's other keys; replace its
        ``custom_metadata`` with ``metadata`` (a key of a secret: only when some is given).
        ``expected_version``: see :mod:`.writes`.  The version written."""
        client, _ = self._ready()
        return writes.save(client, id_, value, metadata, expected_version, self._forget)

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Delete the latest version of the KV path ``id_`` (or drop the key ``<last>`` of the
        secret above it); whether there was a live secret.  ``expected_version``: only if it
        is still that version (exactly that version is deleted, see :mod:`.writes`)."""
        client, _ = self._ready()
        return writes.delete(client, id_, expected_version, self._forget)

    def purge(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Delete every version of the KV path ``id_`` and its metadata, live or deleted;
        whether it existed."""
        client, _ = self._ready()
        return writes.purge(client, id_, expected_version, self._forget)

    def undelete(self, id_: ID) -> bool:
        """Restore the deleted latest version of the KV path ``id_``; ``False`` when there is
        no such path (a live or destroyed one is refused, saying so)."""
        client, _ = self._ready()
        return writes.undelete(client, id_, self._forget)

    # -- internals --------------------------------------------------------------------------

    def _ready(self) -> tuple[KvClient, VaultSettings]:
        client, settings = self.client, self.settings
        if client is None or settings is None:
            raise PluginError(f"{PLUGIN_NAME} is not started")
        keeper = self._keeper
        if keeper is not None and keeper.last_problem and keeper.expires_at is None:
            # The start could not reach the server: check the token now that it may answer.
            keeper.start()
            keeper.last_problem = ""
            keeper.run_renewals()
        return client, settings

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # Imported here: every engine loads this class (~5 ms with logging).
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(
                    max_workers=self.concurrency, thread_name_prefix="vault"
                )
            return self._pool

    def _walk(self, pattern: Pattern) -> builtins.list[tuple[str, ...]]:
        client, settings = self._ready()
        cache = self.cache

        def list_folder(folder: Folder) -> builtins.list[str]:
            keys = cache.get(folder)
            if keys is None:
                keys = client.list_folder(kv.folder_path(settings.prefix, folder))
                cache.put(folder, keys)
            return keys

        if any(c in (".", "..") for c in pattern.literal_head):
            return []
        where = f"vault {settings.shown_address}: listing {pattern.value}"
        bounds = {"bound": self.concurrency, "budget": self.walk_budget}
        return walk(pattern, list_folder, self._executor(), **bounds, where=where)

    def _read_matching(
        self, components: tuple[str, ...], pattern: Pattern
    ) -> builtins.list[Envelope]:
        """The envelope of a walked secret; for one with several keys and no ``value``, one
        envelope per key whose ID ``<path>/<key>`` the pattern matches."""
        client, settings = self._ready()
        id_ = ID("/".join(components))
        path = kv.kv_path(settings.prefix, components)
        try:
            data, metadata = client.read(path)
        except MissingPathError:
            return []  # its latest version was deleted: LIST still shows it
        try:
            key = kv.value_key(data, id_)
        except kv.SeveralKeysError:
            return kv.keyed_envelopes(id_, data, metadata, pattern, PLUGIN_NAME)
        return [kv.envelope(id_, data[key], metadata, PLUGIN_NAME)]

    def _keyed(self, id_: ID) -> Envelope:
        """``a/b/c`` as the key ``c`` of the secret ``a/b``; ``secret not found`` otherwise."""
        client, _ = self._ready()
        parent = parent_holding(client, id_)
        if parent is None:
            raise SecretNotFoundError
        _, data, metadata = parent
        return kv.envelope(id_, data[id_.components[-1]], metadata, PLUGIN_NAME)

    def _walked_info(self, components: tuple[str, ...], *, deleted: bool) -> SecretInfo | None:
        """The listing entry of a secret the walk found, from its metadata (cached): ``None``
        for a deleted one unless ``deleted``, and for a path gone since its folder was
        listed.  A token that may list but not read a secret's metadata still lists it."""
        client, settings = self._ready()
        id_ = ID("/".join(components))
        path = kv.kv_path(settings.prefix, components)
        metadata = self.metadata_cache.get(path)
        if metadata is None:
            try:
                metadata = client.read_metadata(path)
            except MissingPathError:
                return None
            except PermissionDeniedError:
                return SecretInfo(id_, PLUGIN_NAME)  # listed, its state not ours to read
            self.metadata_cache.put(path, metadata)
        return listed_info(id_, metadata, PLUGIN_NAME, deleted=deleted)

    def _exact_info(
        self, id_: ID, *, quiet: bool = False, deleted: bool = False
    ) -> SecretInfo | None:
        """The listing entry of an exact ID (a metadata read, never cached: a write checks
        with it; a key of a secret above it)."""
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components)
        try:
            metadata = client.read_metadata(path)
        except MissingPathError:
            metadata = {}
        except PermissionDeniedError:
            if quiet:
                return None
            raise
        info = listed_info(id_, metadata, PLUGIN_NAME, deleted=deleted) if metadata else None
        if info is not None and not info.deleted:
            return info
        parent = parent_holding(client, id_)
        if parent is not None:  # a live key of the secret above wins over a deleted path
            _, _, version_metadata = parent
            version = version_metadata.get("version")
            return SecretInfo(
                id_,
                PLUGIN_NAME,
                kv.custom_metadata(version_metadata),
                version=str(version) if version is not None else "",
            )
        return info

    def _forget(self, path: str) -> None:
        """Forget what the caches hold of ``path`` and the folders above it: this plugin
        wrote or deleted it (whatever the outcome: it may have changed)."""
        self.metadata_cache.forget(path)
        prefix = self.settings.prefix if self.settings is not None else ""
        relative = path[len(prefix) + 1 :] if prefix else path
        self.cache.forget_path(tuple(relative.split("/")))
