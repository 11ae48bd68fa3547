"""``plugins 1password setup`` refuses a malformed token with the setup form's own rules (the
TUI's form words the same rules for its field), before anything is stored."""

from __future__ import annotations

import pytest

from docker_pass.backends.onepassword.sdk_plugin import NOT_A_TOKEN
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import WritablePlugin
from docker_pass.core.registry import create_plugin
from tests.support.fakes.onepassword_data import TOKEN_ID
from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def internal_ids() -> list[str]:
    """What the keychain plugin holds in the internal realm (the token would be there)."""
    keychain = create_plugin("docker-pass")
    try:
        return [i.id.value for i in keychain.list(Pattern("docker/secrets-engine/**"))]
    finally:
        keychain.stop()


def test_the_check_sees_a_stored_token() -> None:
    keychain = create_plugin("docker-pass")
    assert isinstance(keychain, WritablePlugin)
    keychain.save(ID(TOKEN_ID), b"ops_x", {})
    keychain.stop()
    assert internal_ids() == [TOKEN_ID]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            b"ops_one ops_two\n",
            "stdin holds more than one word: give exactly one service account token",
        ),
        (b"not-a-token\n", NOT_A_TOKEN),
    ],
)
def test_a_malformed_token_is_refused_and_nothing_is_stored(stdin: bytes, message: str) -> None:
    result = docker_pass("plugins", "1password", "setup", input=stdin)
    assert result.returncode == 1
    assert result.stderr.decode() == f"Error: {message}\n"
    assert result.stdout == b""
    assert stdin.strip() not in result.stderr
    assert internal_ids() == []
    rows = docker_pass("plugins", "ls").stdout.decode().splitlines()
    assert any(row.split()[:3] == ["1password-sdk", "0.1.0", "disabled"] for row in rows)
