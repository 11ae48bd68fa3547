"""Version tokens: how a write knows that a secret is still what was read.

Every read of a secret carries a version token from its plugin (``Envelope.version``, and
``SecretInfo.version`` where a listing knows it cheaply): the KV version for vault, a change
counter or stamp for the stores.  A token is opaque text that a plugin compares only for
equality; ``""`` means the plugin did not say (it is *unversioned*: it declares no
``versioned = True``, and fronts say so).

A write may carry the version it expects (``expected_version``):

- ``None`` — a blind write: create or replace, whatever is there (``docker pass set``, as
  Docker's own ``set`` and ``bao kv put`` do);
- :data:`NO_SECRET` — there must be no such secret yet (a create that must not replace);
- a token — the stored secret must be exactly that version.

A versioned plugin compares under its own write lock (vault: KV check-and-set) and raises
:class:`~docker_pass.core.errors.VersionConflictError` when the secret is not as expected;
nothing is written then.  Standard library only, nothing imported.
"""

from __future__ import annotations

#: The version a write expects when there must be no such secret.  No plugin's token is this
#: word (a plugin's tokens are digits, stamps or hashes).
NO_SECRET = "absent"  # noqa: S105 - a version token, not a password

#: What a person is shown for a plugin that keeps no versions.
UNVERSIONED = "unversioned"


def is_versioned(plugin: object) -> bool:
    """Whether ``plugin`` (class or instance) reports versions and honours expected ones."""
    return getattr(plugin, "versioned", False) is True


def describe_version(version: str) -> str:
    """A token as a person reads it: the token, ``none`` for no secret, ``unversioned``."""
    if version == NO_SECRET:
        return "none (no such secret)"
    return version or UNVERSIONED
