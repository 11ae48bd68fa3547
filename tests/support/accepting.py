"""Test servers' accept loop: each connection on a listener handled in a thread of its own,
until the listener is closed."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable


def serve_each(listener: socket.socket, handle: Callable[[socket.socket], None]) -> None:
    """Accept on ``listener`` (bound and listening) in a daemon thread and call ``handle`` with
    each connection in a daemon thread of its own; closing ``listener`` ends the loop."""

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
