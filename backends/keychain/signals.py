"""The Secret Service collection's item signals, for a front that follows other processes'
changes to the keychain: the TUI when it runs the engine itself, the engine daemon for its
change feed (:mod:`docker_pass.daemon.feed`).  Reached through the keychain plugin's
``watcher`` (:class:`~docker_pass.core.plugin.OwnWatcher`), since the fronts import no backend.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

#: Seconds a burst of signals is collected before one change is told (a ``set`` of an
#: existing item emits several; ``rm --all`` one per item).
DEBOUNCE_SECONDS = 0.3

_COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
_ITEM_SIGNALS = frozenset({"ItemCreated", "ItemDeleted", "ItemChanged"})


class SecretServiceWatcher:
    """Listens for a Secret Service collection's item signals on its own session-bus
    connection (a second connection: the store's carries requests and their replies).

    ``on_failure(reason)`` is called if the bus cannot be reached or drops the connection;
    the watcher then ends (the app falls back to refreshing on an interval).
    """

    def __init__(
        self,
        collection: str,
        on_change: Callable[[], None],
        *,
        on_failure: Callable[[str], None] | None = None,
        debounce: float = DEBOUNCE_SECONDS,
        bus_address: str | None = None,
    ) -> None:
        self.collection = collection
        self._on_change = on_change
        self._on_failure = on_failure
        self._debounce = debounce
        self._bus_address = bus_address
        self._stopped = threading.Event()
        #: Set once the match rule is in place (tests wait for it before changing items).
        self.subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {collection}", daemon=True)

    def start(self) -> None:
        """Connect and subscribe in the watcher's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (the thread notices within half a second)."""
        self._stopped.set()

    def _run(self) -> None:
        # Imported here: only a keychain on the Secret Service pays for jeepney's I/O module.
        from jeepney import MatchRule, MessageType, message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            address = self._bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
            connection = open_dbus_connection(address or "SESSION")
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            self._fail(f"cannot reach the session bus to watch {self.collection}: {exc}")
            return
        try:
            rule = MatchRule(type="signal", interface=_COLLECTION_IFACE, path=self.collection)
            reply = connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=10)
            if reply.header.message_type is MessageType.error:
                self._fail(f"the session bus refused to watch {self.collection}")
                return
            self.subscribed.set()
            self._listen(connection, MessageType.signal)
        except (OSError, TimeoutError, ValueError) as exc:
            if not self._stopped.is_set():
                self._fail(f"lost the session bus while watching {self.collection}: {exc}")
        finally:
            connection.close()

    def _listen(self, connection: object, signal: object) -> None:
        """Receive until stopped; fire once per burst, ``debounce`` after its first signal."""
        due: float | None = None
        while not self._stopped.is_set():
            wait = 0.5 if due is None else max(0.0, due - time.monotonic())
            try:
                message = connection.receive(timeout=wait)  # type: ignore[attr-defined]
            except TimeoutError:
                message = None
            if message is not None and _is_item_signal(message, signal, self.collection):
                due = due if due is not None else time.monotonic() + self._debounce
            if due is not None and time.monotonic() >= due:
                due = None
                self._on_change()

    def _fail(self, reason: str) -> None:
        if self._on_failure is not None:
            self._on_failure(reason)


def _is_item_signal(message: object, signal: object, collection: str) -> bool:
    header = getattr(message, "header", None)
    if header is None or header.message_type is not signal:
        return False
    from jeepney import HeaderFields

    fields = header.fields
    return bool(
        fields.get(HeaderFields.path) == collection
        and fields.get(HeaderFields.interface) == _COLLECTION_IFACE
        and fields.get(HeaderFields.member) in _ITEM_SIGNALS
    )
