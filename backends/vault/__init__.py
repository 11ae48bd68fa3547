"""The ``vault`` plugin: a realm served from a HashiCorp Vault / OpenBao KV v2 mount.

- :mod:`.plugin` — :class:`~.plugin.VaultPlugin` (the plugin protocol, its setup form);
- :mod:`.kv` — how IDs map to KV paths and keys, and KV answers to envelopes;
- :mod:`.walk` — the pattern-pruned, concurrent LIST walk and its in-memory tree cache;
- :mod:`.lookup` — where an ID lives and in what state (live and its version, deleted), the
  listing entries read from metadata, and their cache;
- :mod:`.writes` — save, delete, purge and undelete with versions (KV check-and-set);
- :mod:`.auth` — the token (from the keychain, or an AppRole login) and its renewal;
- :mod:`.client` — the KV v2 calls through ``hvac``, failures classified;
- :mod:`.transport` — the HTTP under them, bounded: a total deadline, a cap on answers, no
  redirect elsewhere, Vault's JSON or an error;
- :mod:`.errors` — what a failed call means: crashed (token, policy, seal) or one request.

``hvac`` (and ``requests`` under it, ~0.2 s) is imported only when the plugin starts or a setup
is checked, never by importing this package.
"""
