"""The ``vault`` plugin: read, list, write and delete secrets in a Vault / OpenBao KV v2 mount.

``docker pass plugins vault setup --address URL …`` checks a token (``lookup-self``) or an
AppRole login, stores the token or secret ID with the ``docker-pass`` keychain plugin, writes
the other answers to ``plugins.vault`` in the config file, and enables this plugin (the form,
its check and the settings: :mod:`.settings`).  The mapping of IDs to KV paths and keys is
:mod:`.kv`'s; listing is :mod:`.walk`'s pruned walk; failures are classified by :mod:`.errors`.

Writes use KV v2 check-and-set: a secret this plugin has read is written only if it is still
the version it read (else the write is refused, nothing is overwritten); a secret it has not
read, only if it is still the version it finds just before writing.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from docker_pass.backends.vault import kv
from docker_pass.backends.vault.auth import TokenKeeper
from docker_pass.backends.vault.errors import (
    PLUGIN_NAME,
    MissingPathError,
    PermissionDeniedError,
    VaultSettings,
)
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

#: How many secrets' last-read versions are kept for check-and-set.
SEEN_VERSIONS = 4096


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
        self.concurrency = DEFAULT_CONCURRENCY
        self.walk_budget = DEFAULT_WALK_BUDGET
        self._seen: dict[str, int] = {}
        self._seen_lock = threading.Lock()

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
        with self._seen_lock:
            self._seen.clear()

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

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        """IDs matching ``pattern``: an exact ID is one metadata read, anything else a walk
        (no values, and no metadata: that would be one read per secret)."""
        if pattern.is_literal:
            info = self._exact_info(pattern.as_id())
            return [info] if info is not None else []
        ids = [ID("/".join(c)) for c in self._walk(pattern)]
        head = pattern.literal_head
        if head and pattern.matches("/".join(head)):
            info = self._exact_info(ID("/".join(head)), quiet=True)
            if info is not None:
                ids.append(info.id)
        ids.sort()
        return SecretInfo.many(ids, PLUGIN_NAME, ({} for _ in ids), (None for _ in ids))

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
        self._remember(path, metadata)
        return kv.envelope(id_, data[kv.value_key(data, id_)], metadata, PLUGIN_NAME)

    # -- writing ----------------------------------------------------------------------------

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
        """Write a new version (check-and-set), keeping a secret's other keys; replace its
        ``custom_metadata`` with ``metadata`` (a key of a secret: only when some is given)."""
        client, settings = self._ready()
        text = kv.decode(id_, value)
        path = kv.kv_path(settings.prefix, id_.components)
        keyed = False
        try:
            data, current = client.read(path)
            key = kv.key_to_write(id_, data)
        except MissingPathError:
            data, current, key = {}, {}, kv.VALUE_KEY
            parent = self._parent_holding(id_)
            if parent is not None:
                path, data, current = parent
                key, keyed = id_.components[-1], True
            else:
                current = {"version": self._deleted_version(path)}
        version = current.get("version") if current else 0
        cas = self._seen_version(path, version if isinstance(version, int) else 0)
        new = {**data, key: text}
        try:
            written = client.write(path, new, cas)
        finally:
            self._forget(path)
            self.cache.forget_path(tuple(path.split("/")))
            self.cache.forget_path(id_.components)
        wanted = dict(metadata)
        if (wanted or not keyed) and wanted != kv.custom_metadata(current):
            client.write_custom_metadata(path, wanted)
        self._remember(path, {"version": written})

    def delete(self, id_: ID) -> bool:
        """Delete the latest version of the KV path ``id_`` (or drop the key ``<last>`` of the
        secret above it); whether there was one."""
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components)
        try:
            metadata = client.read_metadata(path)
        except MissingPathError:
            return self._delete_key(id_)
        if not kv.is_live(metadata):
            return False
        try:
            client.delete_latest(path)
        finally:
            self._forget(path)
            self.cache.forget_path(id_.components)
        return True

    def purge(self, id_: ID) -> bool:
        """Delete every version of the KV path ``id_`` and its metadata; whether it existed."""
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components)
        try:
            client.read_metadata(path)
        except MissingPathError:
            return False
        try:
            client.delete_all(path)
        finally:
            self._forget(path)
            self.cache.forget_path(id_.components)
        return True

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
        self._remember(path, metadata)
        try:
            key = kv.value_key(data, id_)
        except kv.SeveralKeysError:
            return kv.keyed_envelopes(id_, data, metadata, pattern, PLUGIN_NAME)
        return [kv.envelope(id_, data[key], metadata, PLUGIN_NAME)]

    def _keyed(self, id_: ID) -> Envelope:
        """``a/b/c`` as the key ``c`` of the secret ``a/b``; ``secret not found`` otherwise."""
        parent = self._parent_holding(id_)
        if parent is None:
            raise SecretNotFoundError
        path, data, metadata = parent
        self._remember(path, metadata)
        return kv.envelope(id_, data[id_.components[-1]], metadata, PLUGIN_NAME)

    def _parent_holding(self, id_: ID) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """The path above ``id_``, its data and metadata, when it holds the key ``<last>``.
        A path the token may not read holds nothing it can name."""
        if len(id_.components) < 2:
            return None
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components[:-1])
        try:
            data, metadata = client.read(path)
        except (MissingPathError, PermissionDeniedError):
            return None
        if id_.components[-1] not in data:
            return None
        return path, data, metadata

    def _delete_key(self, id_: ID) -> bool:
        parent = self._parent_holding(id_)
        if parent is None:
            return False
        path, data, metadata = parent
        rest = {k: v for k, v in data.items() if k != id_.components[-1]}
        client, _ = self._ready()
        version = metadata.get("version")
        cas = self._seen_version(path, version if isinstance(version, int) else 0)
        try:
            if rest:
                client.write(path, rest, cas)
            else:
                client.delete_latest(path)
        finally:
            self._forget(path)
            self.cache.forget_path(tuple(path.split("/")))
        return True

    def _deleted_version(self, path: str) -> int:
        """The current version of a path whose latest version was deleted (0: none), which a
        new write must name for check-and-set."""
        client, _ = self._ready()
        try:
            metadata = client.read_metadata(path)
        except MissingPathError:
            return 0
        current = metadata.get("current_version")
        return current if isinstance(current, int) else 0

    def _exact_info(self, id_: ID, *, quiet: bool = False) -> SecretInfo | None:
        """The listing entry of an exact ID (a metadata read; a key of a secret above it)."""
        client, settings = self._ready()
        path = kv.kv_path(settings.prefix, id_.components)
        try:
            metadata = client.read_metadata(path)
        except MissingPathError:
            parent = self._parent_holding(id_)
            if parent is None:
                return None
            return SecretInfo(id_, PLUGIN_NAME, kv.custom_metadata(parent[2]))
        except PermissionDeniedError:
            if quiet:
                return None
            raise
        if not kv.is_live(metadata):
            return None
        updated = kv.parse_time(metadata.get("updated_time"))
        return SecretInfo(
            id_,
            PLUGIN_NAME,
            kv.custom_metadata(metadata),
            updated.timestamp() if updated is not None else None,
        )

    def _remember(self, path: str, metadata: Mapping[str, Any]) -> None:
        version = metadata.get("version")
        if not isinstance(version, int):
            return
        with self._seen_lock:
            self._seen.pop(path, None)
            self._seen[path] = version
            while len(self._seen) > SEEN_VERSIONS:
                self._seen.pop(next(iter(self._seen)))

    def _forget(self, path: str) -> None:
        with self._seen_lock:
            self._seen.pop(path, None)

    def _seen_version(self, path: str, current: int) -> int:
        with self._seen_lock:
            return self._seen.get(path, current)
