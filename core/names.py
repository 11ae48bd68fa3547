"""Names every layer agrees on, in one place and with no imports (the fast path reads them).

Each is spelled here only; ``tests/test_one_home.py`` fails if a second copy appears.
"""

from __future__ import annotations

#: The plugin every secret verb uses unless told otherwise: the OS keychain (Docker's tool has
#: only this one).  Its setup secrets and the engine's own tokens live in it too.
KEYCHAIN_PLUGIN = "docker-pass"

#: The realm of the engine's own secrets (service-account tokens, vault tokens): listed only on
#: request, never resolved by a reference (see :func:`docker_pass.core.plugin.is_reserved`).
ENGINE_REALM = "docker/secrets-engine"

#: Where plugins' setup secrets live: ``SETUP_REALM/<plugin>/<field>`` (inside the engine's realm).
SETUP_REALM = f"{ENGINE_REALM}/plugins"

#: What starts a secret reference: ``se://<id|pattern>``.
REFERENCE_SCHEME = "se://"

#: Where the keychain plugin may keep its secrets (the config's ``storage``; ``auto`` chooses).
STORAGE_KINDS = ("auto", "secret-service", "keyring", "file")

#: The program's own name: its executable, its folders under the XDG dirs, the docker context
#: it creates, how it names itself to others.  The same word as :data:`KEYCHAIN_PLUGIN` (Docker
#: named both so), but another meaning: each has its one home here.
PROGRAM = "docker-pass"
