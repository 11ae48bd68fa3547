"""The freedesktop Secret Service store (gnome-keyring, KWallet, KeePassXC) over D-Bus.

Items are the ones Docker's own ``docker pass`` writes: attributes ``service:group``,
``service:name``, ``id`` and ``x_<key>`` per metadata key, label ``item_label(id)``, in the
``login`` collection when there is one and in the ``default`` alias's collection otherwise.

This store is on the CLI's fast path (``docker pass get``), so it speaks D-Bus with jeepney's
blocking connection and message builders directly: ``secretstorage`` would import
``cryptography`` (about 50 ms) for an encrypted session we do not need (see
:meth:`SecretServiceStore._prepare`), and listing pipelines its per-item requests instead of
waiting for each reply in turn.

Writers take turns across processes: ``save`` and ``delete`` search, replace and clean up under
an exclusive ``flock`` on ``secret-service.lock`` in a private directory (see
:func:`writer_lock_dir`).  Without it, two processes saving one ID with different metadata
could each find no item, each create one, and leave two.  Reads take no lock.  The clean-up of
duplicates stays: other tools (Docker's own) do not take our lock.

Versions: a keyed digest of what ``get`` reads, over every item of the ID
(:func:`~docker_pass.backends.keychain.versioning.content_token`), so a change by any program
shows.  A write that expects a version reads the items under the writer lock and compares
before it writes.  Other tools do not take that lock: a change one makes in the moment between
our compare and our write goes unseen, as it would by any client of the service.

The D-Bus plumbing is :mod:`.secretservice_wire`'s, the writers' lock
:mod:`.secretservice_lock`'s: modules of their own only to keep this one readable.
"""

from __future__ import annotations

import _thread
from typing import TYPE_CHECKING, Any

# jeepney is pure Python and imports in about 10 ms (most of it the stdlib's socket module); it is
# the one dependency every use of this module needs, the availability probe included.
from jeepney import new_method_call

from docker_pass.backends.keychain.secretservice_lock import (
    WRITER_LOCK_NAME,
    _writers_turn,
    writer_lock_dir,
)
from docker_pass.backends.keychain.secretservice_wire import (
    _CALL_TIMEOUT,
    _COLLECTION_IFACE,
    _CONTENT_TYPE,
    _GONE_ERRORS,
    _ITEM_IFACE,
    _NULL_PATH,
    _OUR_ITEMS,
    _SERVICE_IFACE,
    _SERVICE_PATH,
    SECRETS_BUS_NAME,
    _address,
    _body,
    _Conversation,
    _error_name,
    _get_property,
    _get_secrets,
    _id_attributes,
    _Item,
    _metadata,
    _recency,
    _search_items,
    _seconds,
    _time_of,
    _variant_value,
    _version,
    secret_service_available,
)
from docker_pass.backends.keychain.versioning import check_version, content_token
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    SecretNotFoundError,
    StoreError,
)
from docker_pass.core.ids import ID, Pattern, is_valid_id
from docker_pass.core.store import METADATA_PREFIX, item_label
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    import builtins
    from collections.abc import Mapping, Sequence

__all__ = [
    "LOGIN_COLLECTION",
    "SECRETS_BUS_NAME",
    "WRITER_LOCK_NAME",
    "SecretServiceStore",
    "secret_service_available",
    "writer_lock_dir",
]

#: The collection PAM-unlocked desktop sessions have; Docker's tool prefers it over the alias.
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"


class SecretServiceStore(_Conversation):
    """Secrets in the freedesktop Secret Service, as the same items Docker's tool writes.

    Connects on first use to ``bus_address`` (default ``$DBUS_SESSION_BUS_ADDRESS``).  A locked
    collection is unlocked through the service's prompt, waiting at most ``prompt_timeout``
    seconds for the person to answer.  One store may be shared between threads.

    Raises :class:`StoreUnavailableError` when the bus or the service cannot be reached,
    :class:`PromptDismissedError` when an unlock prompt is dismissed or times out, and
    :class:`StoreError` for any other failure of the service.
    """

    kind = "secret-service"

    def __init__(
        self,
        bus_address: str | None = None,
        prompt_timeout: float = 120.0,
        *,
        call_timeout: float = _CALL_TIMEOUT,
    ) -> None:
        #: How many secret values this store has fetched (tests check that listing reads none).
        self.values_read = 0
        self._bus_address = bus_address
        self._prompt_timeout = prompt_timeout
        self._call_timeout = call_timeout
        # jeepney ships no type information, so its objects are Any here.
        self._connection: Any = None
        self._collection: str | None = None
        self._session: str | None = None
        # One connection carries requests and their replies in order; threads take turns.
        # (_thread's lock is threading.Lock itself, without importing threading: ~1 ms.)
        self._lock = _thread.allocate_lock()

    def __repr__(self) -> str:
        return f"SecretServiceStore(collection={self._collection!r})"

    # -- the SecretStore protocol -------------------------------------------------------------

    def location(self) -> str:
        """The collection in use, by label and object path (connects if needed)."""
        with self._lock:
            collection = self._ensure_collection()
            (label,) = self._call_many(
                [_get_property(collection, _COLLECTION_IFACE, "Label")], "read the collection label"
            )
        # gnome-keyring's "session" collection has an empty label; its path still names it.
        name = _variant_value(label) or collection.rsplit("/", 1)[-1]
        return f"Secret Service collection '{name}' ({collection})"

    def watch_hint(self) -> tuple[str, str]:
        """What a front watches to notice other processes' changes: the collection in use,
        whose ``ItemCreated``/``ItemDeleted``/``ItemChanged`` signals say so (connects if
        needed)."""
        with self._lock:
            return ("secret-service", self._ensure_collection())

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Create or replace the item of ``id_``, leaving exactly one item with that ID (only
        if the secret is ``expected_version``, unless that is ``None``); the new version."""
        attributes = _id_attributes(id_)
        attributes.update({METADATA_PREFIX + key: text for key, text in metadata.items()})
        properties = {
            f"{_ITEM_IFACE}.Label": ("s", item_label(id_)),
            f"{_ITEM_IFACE}.Attributes": ("a{ss}", attributes),
        }
        # What get reads back: a token of the very value and metadata written (see versioning).
        version = content_token(id_, [(value, _metadata(attributes))])
        with self._lock, _writers_turn():
            collection, session, existing = self._prepare(_id_attributes(id_))
            if expected_version is not None:
                self._check(id_, expected_version, session, existing, removing=False)
            secret = (session, b"", value, _CONTENT_TYPE)
            ((item, prompt),) = self._call_many(
                [
                    new_method_call(
                        _address(collection, _COLLECTION_IFACE),
                        "CreateItem",
                        "a{sv}(oayays)b",
                        (properties, secret, True),
                    )
                ],
                "store the secret",
            )
            if prompt != _NULL_PATH:
                item = _variant_value(
                    self._run_prompt(prompt, "keyring prompt to store the secret")
                )
            # replace=True only replaces an item whose attributes all equal the new ones, so
            # changed metadata (or an item another tool made) would leave a second item behind.
            self._delete_items([path for path in existing if path != item])
        return version

    def get(self, id_: ID) -> Envelope:
        """The secret ``id_`` with its version; raise :class:`SecretNotFoundError` when there
        is none."""
        with self._lock:
            _collection, session, paths = self._prepare(_id_attributes(id_))
            items = self._read_items(paths, session)
            if not items:
                raise SecretNotFoundError()  # none, or deleted between our search and our read
            # Normally the only one; of duplicates another tool left (``secret-tool store`` adds
            # an attribute, so it makes a second item), the one changed last, so that a reload
            # after a conflict shows that change.
            first = max(items, key=_recency)
            return Envelope(
                id_,
                first.value,
                version=_version(id_, items),
                created_at=first.created,
                metadata=_metadata(first.attributes),
            )

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        """IDs and metadata of the items matching ``pattern``, sorted by ID; reads no value."""
        with self._lock:
            _collection, _session, paths = self._prepare(_OUR_ITEMS)
            found = self._select(paths, pattern)
        return [SecretInfo(id_, metadata=_metadata(attributes)) for id_, _path, attributes in found]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes of the items matching ``pattern``, sorted by ID, read in one request;
        each with its version, but for an ID that several items hold (ask ``get``)."""
        duplicated: set[str] = set()
        with self._lock:
            _collection, session, paths = self._prepare(_OUR_ITEMS)
            found = self._select(paths, pattern, duplicated)
            if not found:
                return []
            # One pipelined exchange: the values, and when each item was created.
            reply, *created = self._call_many(
                [
                    _get_secrets([path for _id, path, _attributes in found], session),
                    *(_get_property(path, _ITEM_IFACE, "Created") for _id, path, _a in found),
                ],
                "read the secrets",
            )
            secrets: dict[str, tuple[str, bytes, bytes, str]] = reply[0]
            self.values_read += len(secrets)
        envelopes: builtins.list[Envelope] = []
        for (id_, path, attributes), when in zip(found, created, strict=True):
            if path not in secrets:
                continue  # an item deleted since the listing is simply not there
            value, metadata = bytes(secrets[path][2]), _metadata(attributes)
            one = id_.value not in duplicated
            version = content_token(id_, [(value, metadata)]) if one else ""
            envelopes.append(
                Envelope(id_, value, version=version, created_at=_seconds(when), metadata=metadata)
            )
        return envelopes

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Remove every item of ``id_`` (only if the secret is ``expected_version``, unless
        that is ``None``); whether there was any."""
        with self._lock, _writers_turn():
            _collection, session, paths = self._prepare(_id_attributes(id_))
            if paths and expected_version is not None:
                self._check(id_, expected_version, session, paths, removing=True)
            self._delete_items(paths)
        return bool(paths)

    def close(self) -> None:
        """Close the D-Bus connection (the service ends our session with it)."""
        with self._lock:
            self._disconnect()

    # -- steps shared by the operations -------------------------------------------------------

    def _read_items(self, paths: Sequence[str], session: str) -> builtins.list[_Item]:
        """The items at ``paths`` (value, attributes, times) in one pipelined exchange, in the
        order of ``paths``; an item deleted meanwhile is left out."""
        if not paths:
            return []
        requests = [_get_secrets(paths, session)]
        for path in paths:
            requests += [
                _get_property(path, _ITEM_IFACE, name)
                for name in ("Attributes", "Created", "Modified")
            ]
        secrets_reply, *replies = self._exchange(requests)
        (secrets,) = _body(secrets_reply, "read the secret")
        items: builtins.list[_Item] = []
        for number, path in enumerate(paths):
            attributes, created, modified = replies[3 * number : 3 * number + 3]
            if path not in secrets or _error_name(attributes) in _GONE_ERRORS:
                continue  # deleted since the search
            self.values_read += 1
            items.append(
                _Item(
                    path,
                    bytes(secrets[path][2]),
                    _variant_value(_body(attributes, "read the secret")),
                    _time_of(created),
                    _time_of(modified),
                )
            )
        return items

    def _check(
        self,
        id_: ID,
        expected: str,
        session: str,
        paths: Sequence[str],
        *,
        removing: bool,
    ) -> None:
        """Raise the conflict unless the items at ``paths`` (those of ``id_``, found under the
        writer lock) are the version ``expected``; reads their values to know.  For a delete,
        items another tool removed meanwhile are no conflict: nothing of anyone's is lost."""
        items = self._read_items(paths, session)
        if removing and not items:
            return
        changed = [item.modified for item in items if item.modified is not None]
        check_version(
            id_,
            expected,
            _version(id_, items) if items else NO_SECRET,
            removing=removing,
            changed_at=max(changed, default=None),
        )

    def _prepare(self, attributes: Mapping[str, str]) -> tuple[str, str, builtins.list[str]]:
        """The collection (unlocked), our session, and the paths of its items with ``attributes``.

        Every operation starts here, so the common case asks for all of it in one round trip:
        the first time, it assumes the ``login`` collection while asking which collections
        exist, and only when ``login`` is missing asks again about the ``default`` alias's.
        """
        known = self._collection is not None
        collection = self._collection or LOGIN_COLLECTION
        requests = [
            _get_property(collection, _COLLECTION_IFACE, "Locked"),
            _search_items(collection, attributes),
        ]
        if self._session is None:
            # "plain" sends values unencrypted over the bus socket.  The session bus is private
            # to this user, and anything that can read it runs as the user and could ask the
            # keyring for the values anyway; the "dh-ietf1024-sha256-aes128-cbc-pkcs7" session
            # would add nothing here but an import of `cryptography` to every command.
            requests.append(
                new_method_call(
                    _address(_SERVICE_PATH, _SERVICE_IFACE),
                    "OpenSession",
                    "sv",
                    ("plain", ("s", "")),
                )
            )
        if not known:
            requests.append(_get_property(_SERVICE_PATH, _SERVICE_IFACE, "Collections"))
        replies = self._exchange(requests)
        if self._session is None:
            self._session = str(_body(replies[2], "open a session")[1])
        if not known:
            collections = _variant_value(_body(replies[-1], "list the collections"))
            if LOGIN_COLLECTION not in collections:
                # The guess was wrong and its answers are errors; ask the right collection.
                self._collection = self._read_default_alias()
                return self._prepare(attributes)
            self._collection = LOGIN_COLLECTION
        if _variant_value(_body(replies[0], "open the collection")):
            self._unlock(collection)
            # Search again: a locked collection may not show (the attributes of) all its items.
            ((paths,),) = self._call_many(
                [_search_items(collection, attributes)], "search the collection"
            )
        else:
            (paths,) = _body(replies[1], "search the collection")
        return collection, self._session, [str(path) for path in paths]

    def _ensure_collection(self) -> str:
        """The collection to use: ``login`` when it exists, else the ``default`` alias."""
        if self._collection is None:
            (collections,) = self._call_many(
                [_get_property(_SERVICE_PATH, _SERVICE_IFACE, "Collections")],
                "list the collections",
            )
            if LOGIN_COLLECTION in _variant_value(collections):
                self._collection = LOGIN_COLLECTION
            else:
                self._collection = self._read_default_alias()
        return self._collection

    def _read_default_alias(self) -> str:
        """The collection the ``default`` alias names; :class:`StoreError` if it names none."""
        ((alias,),) = self._call_many(
            [
                new_method_call(
                    _address(_SERVICE_PATH, _SERVICE_IFACE), "ReadAlias", "s", ("default",)
                )
            ],
            "read the default collection",
        )
        if alias == _NULL_PATH:
            raise StoreError(
                "the Secret Service has no 'login' collection and no default collection: "
                "create a keyring and make it the default (for example in Seahorse)"
            )
        return str(alias)

    def _unlock(self, collection: str) -> None:
        """Unlock ``collection``, through the service's prompt when it asks for one."""
        ((unlocked, prompt),) = self._call_many(
            [
                new_method_call(
                    _address(_SERVICE_PATH, _SERVICE_IFACE), "Unlock", "ao", ([collection],)
                )
            ],
            "unlock the collection",
        )
        if prompt != _NULL_PATH:
            self._run_prompt(prompt, "keyring unlock prompt")
        elif collection not in unlocked:
            raise StoreError(f"the Secret Service did not unlock the collection {collection}")

    def _select(
        self, paths: Sequence[str], pattern: Pattern, duplicated: set[str] | None = None
    ) -> builtins.list[tuple[ID, str, dict[str, str]]]:
        """(ID, item path, attributes) of the items at ``paths`` matching ``pattern``, by ID;
        ``duplicated`` receives the IDs that more than one item holds.

        Every item's attributes are requested back to back, without waiting for each answer
        (Docker's tool waits for each in turn, which is most of its ``ls`` time).
        """
        replies = self._exchange([_get_property(path, _ITEM_IFACE, "Attributes") for path in paths])
        by_id: dict[str, tuple[str, dict[str, str]]] = {}
        for path, reply in zip(paths, replies, strict=True):
            if _error_name(reply) in _GONE_ERRORS:
                continue  # deleted since the search
            attributes: dict[str, str] = _variant_value(_body(reply, "read the item attributes"))
            raw_id = attributes.get("id")
            # Items made by other tools may lack an ID or hold one we cannot represent.
            if raw_id is None or not is_valid_id(raw_id):
                continue
            if raw_id in by_id and duplicated is not None:
                duplicated.add(raw_id)
            by_id.setdefault(raw_id, (path, attributes))
        return [(ID(raw), *by_id[raw]) for raw in sorted(pattern.filter(by_id))]

    def _delete_items(self, paths: Sequence[str]) -> None:
        """Delete the items at ``paths``, answering any prompt the service asks for."""
        if not paths:
            return
        replies = self._exchange(
            [new_method_call(_address(path, _ITEM_IFACE), "Delete") for path in paths]
        )
        for reply in replies:
            if _error_name(reply) in _GONE_ERRORS:
                continue  # someone else deleted it first
            (prompt,) = _body(reply, "delete the secret")
            if prompt != _NULL_PATH:
                self._run_prompt(prompt, "keyring prompt to delete the secret")
