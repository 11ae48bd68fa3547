"""What a typed ID probably meant: a realm repeated back to back (no Textual).

"New" on a realm pre-fills it; a whole ID typed after it (rather than over it) gives
``docker/docker/auth/hub/alice``, valid by the grammar and "✓ a valid new ID" to a checker that
only knows the grammar.  The editor and the move dialog name the repeat and the ID without it.
"""

from __future__ import annotations


def doubled_realm(id_text: str) -> tuple[str, str] | None:
    """The realm components ``id_text`` repeats back to back, and the ID without the repeat;
    ``None`` when it repeats none.

    A realm pre-filled by "New" and then a whole ID typed after it gives
    ``docker/docker/auth/hub/alice``: valid, but not what anyone means.  Only the realms are
    looked at (a secret named like its realm, ``db/postgres/postgres``, is ordinary); the
    earliest, longest repeat is the one named.
    """
    parts = id_text.split("/")
    realms = len(parts) - 1
    for start in range(realms):
        for size in range((realms - start) // 2, 0, -1):
            middle = start + size
            if parts[start:middle] == parts[middle : middle + size]:
                repeated = "/".join(parts[start:middle]) + "/"
                return repeated, "/".join(parts[:middle] + parts[middle + size :])
    return None


def doubled_realm_notice(id_text: str) -> str:
    """``⚠ starts with docker/ twice — did you mean docker/auth/hub/alice?``, or "" when
    ``id_text`` repeats no realm."""
    found = doubled_realm(id_text)
    if found is None:
        return ""
    repeated, meant = found
    where = "starts with" if id_text.startswith(repeated + repeated) else "has"
    return f"⚠ {where} {repeated} twice — did you mean {meant}?"
