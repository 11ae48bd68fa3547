"""More fake plugins for the editor's tests: a second writable plugin (a vault-like store),
so that "New" has a choice of where to save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support.tui_fakes import keychain_class

if TYPE_CHECKING:
    from tests.support.tui_fakes import Secrets

#: What the second plugin says about its storage (a long text: the editor shows its kind).
VAULT_STORAGE = (
    "vault kv v2 mount secret/ at https://vault.example.internal:8200; token from keychain"
)
#: Its secrets: none shared with the demo keychain but one, to test "exists" per plugin.
VAULT_SECRETS: Secrets = {
    "infra/vault/ci-token": (b"vault-demo-token", {"team": "infra"}),
    "docker/auth/hub/alice": (b"vault-demo-alice", {}),
}


def writable_class(
    name: str = "vault", secrets: Secrets | None = None, *, storage: str = VAULT_STORAGE
) -> type[Any]:
    """A writable, configurable plugin (enabled by default) over its own dict, like
    :func:`tests.support.tui_fakes.keychain_class` but under another name."""
    # A store that does not say its kind: the editor names it by its storage text's first clause.
    base = keychain_class(
        dict(VAULT_SECRETS if secrets is None else secrets), storage=storage, store_kind=""
    )
    plugin_name = name

    class WritableStore(base):  # type: ignore[misc, valid-type]
        name = plugin_name
        configurable = True
        enabled_by_default = True

    WritableStore.__name__ = f"Writable{name.title()}"
    return WritableStore
