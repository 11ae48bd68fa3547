"""Fixtures for the store tests: a private D-Bus session with a real gnome-keyring."""

from __future__ import annotations

from tests.keyring_session import keyring_address, keyring_bus

__all__ = ["keyring_address", "keyring_bus"]
