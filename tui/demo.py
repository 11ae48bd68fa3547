"""The demo store: a file store in its own directory, seeded with realistic secrets.

``docker pass ui --demo`` (and ``scripts/demo``) point every XDG directory at the demo
directory and force the file store, so the demo never reads or writes a real keychain or the
person's own configuration (nor the UI's remembered place: the demo keeps its own).

The demo opens on its secrets, not on a failure: the 1Password plugins stay off (their
default).  How a crashed plugin looks is a choice the plugins panel offers
(:func:`crash_tip`): where ``op`` is not installed, enabling ``1password-cli`` crashes it, with
the message that says how to fix it.

No Textual here: the CLI seeds the store before the app starts.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

from docker_pass.core.errors import DockerPassError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.plugin import WritablePlugin
from docker_pass.core.registry import create_plugin, plugin_specs
from docker_pass.core.state import set_enabled

#: The marker file that says a directory is a demo store (and may be seeded).
MARKER = "DOCKER-PASS-DEMO"
#: The marker's text; its last line names the demo's format (see :func:`_upgrade`).
MARKER_TEXT = "A docker-pass demo store (docker pass ui --demo). Safe to delete.\ndemo: 2\n"
OP_PLUGIN = "1password-cli"

#: (ID, value, metadata).  Values are obviously fake: one snapshot shows one revealed.
DEMO_SECRETS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "docker/auth/hub/alice",
        "dckr_pat_demo-alice-not-a-real-token",
        {"registry": "docker.io", "username": "alice", "created-by": "docker login"},
    ),
    (
        "docker/auth/hub/bob",
        "dckr_pat_demo-bob-not-a-real-token",
        {"registry": "docker.io", "username": "bob"},
    ),
    (
        "docker/auth/ghcr.io/alice",
        "ghp_demoAliceNotARealToken",
        {"registry": "ghcr.io", "username": "alice"},
    ),
    (
        "docker/mcp/oauth/github",
        "gho_demoOAuthNotARealToken",
        {"provider": "github", "scopes": "repo read:org", "expires": "2026-01-31"},
    ),
    (
        "docker/mcp/oauth/notion",
        "secret_demoNotionNotReal",
        {"provider": "notion", "workspace": "acme"},
    ),
    (
        "docker/mcp/brave/api-key",
        "BSA-demo-not-a-real-key",
        {"server": "brave-search"},
    ),
    (
        "myapp/prod/postgres/password",
        "demo-prod-pg-password",
        {"owner": "platform-team", "rotate": "90d", "host": "db.prod.internal"},
    ),
    (
        "myapp/prod/postgres/user",
        "myapp",
        {"owner": "platform-team"},
    ),
    (
        "myapp/prod/stripe/api-key",
        "sk_test_demoNotARealStripeKey",
        {"owner": "payments", "mode": "test"},
    ),
    (
        "myapp/staging/postgres/password",
        "demo-staging-pg-password",
        {"owner": "platform-team", "host": "db.staging.internal"},
    ),
    (
        "myapp/staging/redis/url",
        "redis://:demo-redis@redis.staging:6379/0",
        {"owner": "platform-team"},
    ),
    (
        "gh/ci/token",
        "ghs_demoCiNotARealToken",
        {"repo": "acme/myapp", "used-by": "github-actions"},
    ),
    (
        "registry:5000/token",
        "demo-local-registry-token",
        {"registry": "localhost:5000"},
    ),
    (
        "aws/dev/access-key-id",
        "AKIADEMONOTREAL00000",
        {"account": "dev", "region": "eu-west-1"},
    ),
    (
        "aws/dev/secret-access-key",
        "demo/NotARealAwsSecretAccessKey",
        {"account": "dev", "region": "eu-west-1"},
    ),
)


#: One demo secret expires soon after the demo is created (so the tree shows "expires in
#: 10 d" next to the long-expired docker/mcp/oauth/github): its date is computed then.
SOON_SECRET = ("docker/mcp/oauth/slack", "xoxb-demo-not-a-real-token")
SOON_AFTER_DAYS = 10


def seeded_secrets(today: date | None = None) -> list[tuple[str, str, dict[str, str]]]:
    """What a new demo store holds: :data:`DEMO_SECRETS`, and one that expires
    :data:`SOON_AFTER_DAYS` after ``today`` (default: the real today)."""
    expires = (today or date.today()) + timedelta(days=SOON_AFTER_DAYS)
    id_, value = SOON_SECRET
    soon = (id_, value, {"provider": "slack", "workspace": "acme", "expires": expires.isoformat()})
    return [*DEMO_SECRETS, soon]


def default_demo_dir() -> Path:
    """``$XDG_DATA_HOME/docker-pass-demo`` (next to, never inside, the real data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "docker-pass-demo"


def demo_environment(root: Path) -> dict[str, str]:
    """The environment that confines docker-pass to the demo directory ``root``."""
    return {
        "DOCKER_PASS_STORE": "file",
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_STATE_HOME": str(root / "state"),
        "XDG_CACHE_HOME": str(root / "cache"),
    }


def enter_demo(root: Path) -> None:
    """Point this process at the demo directory (creating it) and seed it on first use.

    Refuses a non-empty directory that is not a demo store, so a mistyped path can never
    turn someone's files into demo data.
    """
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise DockerPassError(f"{root} is not empty and not a docker-pass demo store")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker = root / MARKER
    earlier = marker.read_text(encoding="utf-8", errors="replace") if marker.exists() else None
    os.environ.update(demo_environment(root))
    # A passphrase from the real environment would make the demo store ask for it.
    os.environ.pop("DOCKER_PASS_FILE_PASSPHRASE", None)
    if earlier is not None and earlier != MARKER_TEXT:
        _upgrade()
    marker.write_text(MARKER_TEXT, encoding="utf-8")
    seed_demo_store()


def op_missing() -> bool:
    """Whether ``op`` (1Password's CLI) is absent here: enabling ``1password-cli`` crashes it."""
    if OP_PLUGIN not in plugin_specs(third_party=False):
        return False
    return shutil.which(os.environ.get("DOCKER_PASS_OP_PATH") or "op") is None


def crash_tip() -> str:
    """What the plugins panel says in the demo: how to see a crashed plugin, where enabling
    ``1password-cli`` shows one ("" where ``op`` is installed: a demo must not reach into
    someone's real 1Password account, so it offers nothing there)."""
    if not op_missing():
        return ""
    # One line at 80 columns; the crash's own message says that op is not installed.
    return f"Demo: {OP_PLUGIN} is off; space on its row shows how a crashed plugin looks."


def _upgrade() -> None:
    """A demo store made by an earlier version enabled ``1password-cli`` where ``op`` was
    missing, so it opened on the crash: that plugin goes back to its default (off)."""
    if op_missing():
        set_enabled(OP_PLUGIN, False)


def seed_demo_store() -> int:
    """Save the demo secrets into an empty keychain plugin store; how many were written."""
    plugin = create_plugin(KEYCHAIN_PLUGIN)
    try:
        if not isinstance(plugin, WritablePlugin):
            raise DockerPassError("the docker-pass plugin does not store secrets")
        if plugin.list(Pattern("**")):
            return 0  # seeded before; keep what the person changed since
        secrets = seeded_secrets()
        for id_, value, metadata in secrets:
            plugin.save(ID.parse(id_), value.encode(), metadata)
        return len(secrets)
    finally:
        plugin.stop()
