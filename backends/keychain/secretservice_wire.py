"""The D-Bus plumbing of the Secret Service store: the connection, the messages it sends and
how it reads the replies (:mod:`.secretservice` holds the store itself).

Like the store, it speaks D-Bus with jeepney's blocking connection and message builders
directly (pure Python, about 10 ms to import).  Names keep their leading underscore: they are
the store's private helpers, in a module of their own only to keep each file readable.
"""

from __future__ import annotations

import contextlib
import os
import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jeepney import (
    AuthenticationError,
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_method_call,
)
from jeepney.bus import get_connectable_addresses
from jeepney.io.blocking import DBusConnection, prep_socket

from docker_pass.backends.keychain.versioning import content_token
from docker_pass.core.errors import PromptDismissedError, StoreError, StoreUnavailableError
from docker_pass.core.store import METADATA_PREFIX, SERVICE_GROUP, SERVICE_NAME

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.core.ids import ID

#: The well-known bus name of every Secret Service implementation.
SECRETS_BUS_NAME = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"
# The spec's "no object" path: ReadAlias answers it for an unset alias, methods for "no prompt".
_NULL_PATH = "/"
_SERVICE_IFACE = "org.freedesktop.Secret.Service"
_COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
_ITEM_IFACE = "org.freedesktop.Secret.Item"
_PROMPT_IFACE = "org.freedesktop.Secret.Prompt"
_PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
_CONTENT_TYPE = "text/plain"

# libdbus's default reply timeout; a healthy keyring answers in well under a millisecond.
_CALL_TIMEOUT = 25.0
# Connecting and authenticating to a local bus takes about a millisecond.
_CONNECT_TIMEOUT = 2.0
# Requests in flight at once while pipelining.  Buses cap the replies a connection may await
# (``max_replies_per_connection``: 50,000 on session buses, as low as 128 elsewhere); a window
# far below that still keeps the service busy all the time.
_PIPELINE_WINDOW = 100
# Error text from the service is quoted to the user; it never holds a value, but keep it short.
_MAX_ERROR_TEXT = 200

# The search that finds every item of docker-pass (and of Docker's own tool).
_OUR_ITEMS = MappingProxyType({"service:group": SERVICE_GROUP, "service:name": SERVICE_NAME})
# D-Bus errors that mean "there is no Secret Service here" rather than "this operation failed".
_UNAVAILABLE_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.Disconnected",
    }
)
# Errors an item answers with when it was deleted between our search and our request.
_GONE_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.Secret.Error.NoSuchObject",
    }
)


def secret_service_available(
    timeout: float = 2.0, *, bus_address: str | None = None
) -> tuple[bool, str]:
    """Whether a Secret Service runs on the session bus, and why (not).

    Asks the bus ``NameHasOwner("org.freedesktop.secrets")``, which neither starts an
    activatable service nor unlocks or creates anything; the whole probe takes at most about
    ``timeout`` seconds.  ``bus_address`` defaults to ``$DBUS_SESSION_BUS_ADDRESS``.  A service
    that is only activatable (installed but not running) counts as unavailable.
    """
    deadline = time.monotonic() + timeout
    try:
        connection = _connect(bus_address, timeout)
    except StoreUnavailableError as exc:
        return False, str(exc)
    try:
        reply = connection.send_and_get_reply(
            message_bus.NameHasOwner(SECRETS_BUS_NAME), timeout=_remaining(deadline)
        )
    except TimeoutError:
        return False, f"the session bus did not answer within {timeout:g} s"
    except OSError as exc:
        return False, f"lost the connection to the session bus: {_describe_os_error(exc)}"
    finally:
        connection.close()
    if reply.header.message_type is MessageType.error:
        return False, f"the session bus refused the question: {_error_summary(reply)}"
    if reply.body[0]:
        return True, f"{SECRETS_BUS_NAME} is running on the session bus"
    return False, f"no Secret Service runs on the session bus ({SECRETS_BUS_NAME} has no owner)"


class _Item:
    """One keychain item as read: its path, value, attributes, and times (POSIX seconds)."""

    __slots__ = ("attributes", "created", "modified", "path", "value")

    def __init__(
        self,
        path: str,
        value: bytes,
        attributes: dict[str, str],
        created: int | None,
        modified: int | None,
    ) -> None:
        self.path = path
        self.value = value
        self.attributes = attributes
        self.created = created
        self.modified = modified

    def __repr__(self) -> str:
        return f"_Item({self.path!r}, <{len(self.value)} bytes hidden>)"


def _recency(item: _Item) -> tuple[int, int, int]:
    """What orders items by when they last changed: ``Modified``, then ``Created`` (whole
    seconds both), then the number gnome-keyring ends a new item's path with (it counts up)."""
    tail = item.path.rsplit("/", 1)[-1]
    return (item.modified or 0, item.created or 0, int(tail) if tail.isdigit() else 0)


def _version(id_: ID, items: Sequence[_Item]) -> str:
    """The version token of the secret ``id_`` held by ``items``: of what ``get`` reads of
    each (value, metadata), in path order, so that a duplicate another tool adds changes it."""
    ordered = sorted(items, key=lambda item: item.path)
    return content_token(id_, [(item.value, _metadata(item.attributes)) for item in ordered])


class _BoundedConnection(DBusConnection):  # type: ignore[misc]  # jeepney is untyped
    """jeepney's blocking connection with a default time limit on every plain call.

    ``DBusConnection.__init__`` says ``Hello`` to the bus without any limit; a socket that
    authenticates but never answers would hang the CLI and the availability probe.
    """

    def __init__(self, sock: Any, call_timeout: float) -> None:
        self._default_timeout = call_timeout
        super().__init__(sock)

    def send_and_get_reply(self, message: Message, *, timeout: float | None = None) -> Message:
        limit = self._default_timeout if timeout is None else timeout
        return super().send_and_get_reply(message, timeout=limit)


class _Conversation:
    """The store's side of its D-Bus connection: connecting on first use, pipelined requests,
    and the service's prompts.  :class:`~.secretservice.SecretServiceStore` is one; callers
    hold its lock (one connection carries requests and replies in order)."""

    _bus_address: str | None
    _call_timeout: float
    _prompt_timeout: float
    # jeepney ships no type information, so its objects are Any here.
    _connection: Any
    _collection: str | None
    _session: str | None

    def _ensure_connection(self) -> Any:
        if self._connection is None:
            self._connection = _connect(self._bus_address, _CONNECT_TIMEOUT, self._call_timeout)
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._session = None
        self._collection = None

    def _call_many(self, messages: Sequence[Message], what: str) -> list[tuple[Any, ...]]:
        """The bodies of the replies to ``messages`` (pipelined); raise on any error reply."""
        return [_body(reply, what) for reply in self._exchange(messages)]

    def _exchange(self, messages: Sequence[Message]) -> list[Message]:
        """Send ``messages`` without waiting for each reply; return the replies in order.

        At most ``_PIPELINE_WINDOW`` requests are in flight; messages that answer nothing we
        asked (the bus's ``NameAcquired`` signal, a late reply) are dropped.
        """
        connection = self._ensure_connection()
        replies: list[Message | None] = [None] * len(messages)
        pending: dict[int, int] = {}
        deadline = time.monotonic() + self._call_timeout
        sent = 0
        try:
            while sent < len(messages) or pending:
                while sent < len(messages) and len(pending) < _PIPELINE_WINDOW:
                    serial = next(connection.outgoing_serial)
                    connection.send(messages[sent], serial=serial)
                    pending[serial] = sent
                    sent += 1
                incoming = connection.receive(timeout=_remaining(deadline))
                index = pending.pop(incoming.header.fields.get(HeaderFields.reply_serial, 0), None)
                if index is not None:
                    replies[index] = incoming
        except TimeoutError:
            # Replies may still be on their way; a fresh connection next time is simplest.
            self._disconnect()
            raise StoreError(
                f"the Secret Service did not answer within {self._call_timeout:g} s"
            ) from None
        except OSError as exc:
            self._disconnect()
            raise StoreUnavailableError(
                f"lost the connection to the session bus: {_describe_os_error(exc)}"
            ) from None
        return [reply for reply in replies if reply is not None]

    def _run_prompt(self, prompt: str, purpose: str) -> tuple[str, Any]:
        """Show the service's prompt and wait (bounded) for its ``Completed`` signal.

        Returns the prompt's result variant; raises :class:`PromptDismissedError` when the
        person dismisses it (or the prompter cannot show it) or nobody answers in time.
        """
        connection = self._ensure_connection()
        # Signals reach us only through a match rule; add it before the prompt can complete.
        rule = MatchRule(
            type="signal",
            sender=SECRETS_BUS_NAME,
            interface=_PROMPT_IFACE,
            member="Completed",
            path=prompt,
        )
        self._call_many([message_bus.AddMatch(rule)], "watch the keyring prompt")
        prompt_address = _address(prompt, _PROMPT_IFACE)
        deadline = time.monotonic() + self._prompt_timeout
        try:
            serial = next(connection.outgoing_serial)
            # The empty window id: we have no window for the prompter to attach to.
            connection.send(new_method_call(prompt_address, "Prompt", "s", ("",)), serial=serial)
            while True:
                try:
                    incoming = connection.receive(timeout=_remaining(deadline))
                except TimeoutError:
                    # Take the prompt off the screen: nobody is going to answer it.
                    with contextlib.suppress(OSError):
                        connection.send(new_method_call(prompt_address, "Dismiss"))
                    raise PromptDismissedError(
                        f"the {purpose} got no answer within {self._prompt_timeout:g} s"
                    ) from None
                fields = incoming.header.fields
                if fields.get(HeaderFields.reply_serial) == serial:
                    if incoming.header.message_type is MessageType.error:
                        raise _store_error(incoming, f"show the {purpose}")
                    continue
                if (
                    incoming.header.message_type is MessageType.signal
                    and fields.get(HeaderFields.path) == prompt
                    and fields.get(HeaderFields.member) == "Completed"
                ):
                    dismissed, result = incoming.body
                    if dismissed:
                        raise PromptDismissedError(f"the {purpose} was dismissed")
                    return (str(result[0]), result[1])
        except OSError as exc:
            self._disconnect()
            raise StoreUnavailableError(
                f"lost the connection to the session bus: {_describe_os_error(exc)}"
            ) from None
        finally:
            if self._connection is not None:
                # Fire and forget: its reply is dropped like any other we did not wait for.
                with contextlib.suppress(OSError):
                    self._connection.send(message_bus.RemoveMatch(rule))


def _connect(bus_address: str | None, timeout: float, call_timeout: float | None = None) -> Any:
    """An authenticated connection to the session bus; :class:`StoreUnavailableError` if none."""
    address = bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        raise StoreUnavailableError(
            "DBUS_SESSION_BUS_ADDRESS is not set, so there is no session bus to reach "
            "a Secret Service on"
        )
    try:
        socket_address = next(get_connectable_addresses(address))
    except (RuntimeError, ValueError) as exc:
        from docker_pass.core.outside import clean_outside

        raise StoreUnavailableError(
            f"cannot use the session bus address {clean_outside(address)}: "
            f"{clean_outside(str(exc))}"
        ) from None
    deadline = time.monotonic() + timeout
    try:
        sock = prep_socket(socket_address, enable_fds=False, timeout=timeout)
    except (OSError, AuthenticationError) as exc:
        raise StoreUnavailableError(
            f"cannot reach the session bus at {address}: {_describe_os_error(exc)}"
        ) from None
    try:
        return _BoundedConnection(sock, call_timeout or _remaining(deadline))
    except OSError as exc:
        sock.close()
        raise StoreUnavailableError(
            f"the session bus at {address} did not greet us: {_describe_os_error(exc)}"
        ) from None


# -- message builders and reply readers --------------------------------------------------------


def _address(path: str, interface: str) -> DBusAddress:
    return DBusAddress(path, bus_name=SECRETS_BUS_NAME, interface=interface)


def _get_property(path: str, interface: str, name: str) -> Message:
    return new_method_call(_address(path, _PROPERTIES_IFACE), "Get", "ss", (interface, name))


def _search_items(collection: str, attributes: Mapping[str, str]) -> Message:
    return new_method_call(
        _address(collection, _COLLECTION_IFACE), "SearchItems", "a{ss}", (dict(attributes),)
    )


def _get_secrets(paths: Sequence[str], session: str) -> Message:
    return new_method_call(
        _address(_SERVICE_PATH, _SERVICE_IFACE), "GetSecrets", "aoo", (list(paths), session)
    )


def _body(reply: Message, what: str) -> tuple[Any, ...]:
    """The body of a reply to a request meant to ``what``; raise if it is an error."""
    if reply.header.message_type is MessageType.error:
        raise _store_error(reply, what)
    body: tuple[Any, ...] = reply.body
    return body


def _seconds(body: tuple[Any, ...]) -> int | None:
    """An item's ``Created`` or ``Modified`` property: POSIX seconds (the envelope reads them
    as a time only when asked); ``None`` when it is 0."""
    seconds = _variant_value(body)
    return seconds if isinstance(seconds, int) and seconds else None


def _time_of(reply: Message) -> int | None:
    """:func:`_seconds` of a reply; ``None`` too when the service could not say."""
    if reply.header.message_type is MessageType.error:
        return None
    return _seconds(reply.body)


def _variant_value(body: tuple[Any, ...]) -> Any:
    """The value inside the variant a ``Properties.Get`` (or prompt) reply carries."""
    ((_signature, value),) = body
    return value


def _id_attributes(id_: ID) -> dict[str, str]:
    """The attributes that single out the item of ``id_`` (Docker's naming)."""
    return {"service:group": SERVICE_GROUP, "service:name": SERVICE_NAME, "id": id_.value}


def _metadata(attributes: Mapping[str, str]) -> dict[str, str]:
    """Metadata from ``x_<key>`` attributes; every other attribute (``xdg:schema``…) is not ours."""
    cut = len(METADATA_PREFIX)
    return {
        key[cut:]: value
        for key, value in attributes.items()
        if key.startswith(METADATA_PREFIX) and len(key) > cut
    }


def _error_name(reply: Message) -> str:
    """The D-Bus error name of an error reply; ``""`` for any other reply."""
    if reply.header.message_type is not MessageType.error:
        return ""
    return str(reply.header.fields.get(HeaderFields.error_name, "unknown error"))


def _error_summary(reply: Message) -> str:
    """``name: text`` of a D-Bus error reply, the text cut short: another program's words, made
    safe to show (:func:`~docker_pass.core.outside.clean_outside`)."""
    from docker_pass.core.outside import clean_outside

    body = reply.body
    text = body[0] if body and isinstance(body[0], str) else ""
    name = clean_outside(_error_name(reply), _MAX_ERROR_TEXT)
    text = clean_outside(text, _MAX_ERROR_TEXT)
    return f"{name}: {text}" if text else name


def _store_error(reply: Message, what: str) -> StoreError | StoreUnavailableError:
    """The exception for a D-Bus error reply to a request meant to ``what``."""
    name = _error_name(reply)
    if name in _UNAVAILABLE_ERRORS or name.startswith("org.freedesktop.DBus.Error.Spawn."):
        return StoreUnavailableError(
            f"no Secret Service answers on the session bus ({_error_summary(reply)}); "
            "start gnome-keyring, KeePassXC or KWallet, or use the file store"
        )
    return StoreError(f"the Secret Service could not {what}: {_error_summary(reply)}")


def _describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    from docker_pass.core.outside import clean_outside

    return clean_outside(str(exc)) or type(exc).__name__  # the bus's words in an auth failure


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)
