"""The 1Password plugins driven as a person would: the real executable, as subprocesses.

``1password-cli`` runs the fake ``op`` (tests/fakes first on PATH); ``1password-sdk`` runs the
fake SDK client, named by ``$DOCKER_PASS_OP_SDK_CLIENT`` (1Password's servers cannot be reached).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docker_pass.backends.onepassword.cli_plugin import OP_MISSING, PROMPT_DISMISSED
from docker_pass.backends.onepassword.sdk_plugin import CLIENT_ENV, TOKEN_FIELD, TOKEN_REJECTED
from docker_pass.cli.plugin_setup import read_secrets
from docker_pass.core.errors import UsageError
from docker_pass.core.setup import find_setup
from tests.support.fakes import onepassword_data as data
from tests.support.helpers import docker_pass

REPO = Path(__file__).resolve().parents[2]
FAKES = REPO / "tests" / "support" / "fakes"
SYSTEM_PATH = "/usr/bin:/bin"
TOKEN = "ops_fake-service-account-token"
ENABLE_CLI = "then run: docker pass plugins enable 1password-cli"


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file store, the fakes' data, and PATH with the fake ``op`` first."""
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.setenv("FAKE_OP_DATA", str(data.write_fixture(tmp_path / "op-items.json")))
    monkeypatch.setenv("FAKE_OP_CALLS", str(tmp_path / "op-calls.log"))
    monkeypatch.setenv("FAKE_OP_PYTHON", sys.executable)
    monkeypatch.delenv("FAKE_OP_MODE", raising=False)
    monkeypatch.setenv("PATH", f"{FAKES}:{SYSTEM_PATH}")
    # The fake SDK client is importable from the repository.
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv(CLIENT_ENV, "tests.support.fakes.onepassword_sdk:FakeClient.authenticate")
    monkeypatch.setenv("FAKE_OP_SDK_TOKEN", TOKEN)


def ok(*args: str, input: bytes | None = None) -> str:
    result = docker_pass(*args, input=input)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert b"Traceback" not in result.stderr
    return result.stdout.decode()


def ls_rows() -> dict[str, str]:
    lines = ok("plugins", "ls").splitlines()
    return {line.split()[0]: line for line in lines[1:]}


def op_list_calls(tmp_path: Path) -> int:
    log = tmp_path / "op-calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(1 for line in lines if line.startswith("item list"))


def test_both_plugins_are_listed_disabled_until_enabled() -> None:
    rows = ls_rows()
    for name in ("1password-cli", "1password-sdk"):
        assert rows[name].split()[1:5] == ["0.1.0", "disabled", "yes", "**"]


def test_plugins_ls_with_op_missing_shows_the_crash_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    path = f"{empty}:{SYSTEM_PATH}"
    if shutil.which("op", path=path):
        pytest.skip("a real op is installed on this machine")
    monkeypatch.setenv("PATH", path)
    enabled = docker_pass("plugins", "enable", "1password-cli")
    assert enabled.returncode == 1
    assert enabled.stdout.decode() == f"1password-cli: crashed ({OP_MISSING})\n"
    row = ls_rows()["1password-cli"]
    assert row.split()[1:5] == ["0.1.0", "crashed", "yes", "**"]
    assert "install the 1Password CLI" in row
    assert ENABLE_CLI in row


def test_plugins_ls_after_enable_with_the_fake_op_then_a_dismissed_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ok("plugins", "enable", "1password-cli") == "1password-cli: running\n"
    row = ls_rows()["1password-cli"]
    assert row.split()[2] == "running"
    assert f"1Password via {FAKES / 'op'}; 6 items cached" in row
    # The next process that starts it meets a dismissed authorization prompt.
    monkeypatch.setenv("FAKE_OP_MODE", "prompt-dismissed")
    row = ls_rows()["1password-cli"]
    assert row.split()[2] == "crashed"
    assert PROMPT_DISMISSED in row
    # Accepting the prompt and enabling the plugin brings it back.
    monkeypatch.delenv("FAKE_OP_MODE")
    assert ls_rows()["1password-cli"].split()[2] == "crashed"
    assert ok("plugins", "enable", "1password-cli") == "1password-cli: running\n"


def test_run_resolves_vault_item_references_through_1password_cli(tmp_path: Path) -> None:
    ok("plugins", "enable", "1password-cli")
    before = op_list_calls(tmp_path)
    result = docker_pass(
        "run",
        "--",
        "sh",
        "-c",
        'printf "%s|%s|%s" "$GH" "$WIFI" "$STRIPE"',
        env={
            "GH": "se://Private/GitHub",
            "WIFI": "se://private/wi-fi",
            "STRIPE": "se://work-_-ops/stripe-api-live",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        f"{data.GITHUB_PASSWORD}|{data.WIFI_PASSWORD}|{data.STRIPE_KEY}"
    )
    # Three references, one process: the item list was read once.
    assert op_list_calls(tmp_path) - before == 1


def test_run_explain_names_the_provider_and_never_the_value() -> None:
    ok("plugins", "enable", "1password-cli")
    result = docker_pass("run", "--explain", env={"GH": "se://private/github/username"})
    assert result.returncode == 0, result.stderr
    explained = result.stderr.decode()
    assert "GH: se://private/github/username -> provider 1password-cli" in explained
    assert "alice" not in explained


def test_run_reports_a_request_error_of_1password_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    ok("plugins", "enable", "1password-cli")
    result = docker_pass("run", "--", "true", env={"N": "se://work-_-ops/server-notes"})
    assert result.returncode == 1
    assert result.stderr.decode().startswith(
        "Error: resolving N: 1password-cli: 1Password item 'Server notes'"
    )
    assert data.NOTES_TEXT.encode() not in result.stderr


def test_setup_run_purge_through_1password_sdk() -> None:
    setup = docker_pass("plugins", "1password", "setup", input=f"{TOKEN}\n".encode())
    assert setup.returncode == 0, setup.stderr
    lines = setup.stdout.decode().splitlines()
    assert lines[0].startswith("Stored the 1Password service account token with the docker-pass")
    assert lines[1] == "1password-sdk: running"
    assert TOKEN.encode() not in setup.stdout + setup.stderr

    assert ls_rows()["1password-sdk"].split()[2] == "running"
    result = docker_pass(
        "run", "--", "sh", "-c", 'printf %s "$GH"', env={"GH": "se://Private/GitHub"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == data.GITHUB_PASSWORD

    again = ok("plugins", "1password", "setup", input=TOKEN.encode())
    assert "replacing the earlier one" in again.splitlines()[0]

    purge = ok("plugins", "1password", "purge")
    assert purge.splitlines() == [
        "1password-sdk: disabled",
        "Removed the 1Password service account token.",
    ]
    assert ls_rows()["1password-sdk"].split()[2] == "disabled"
    gone = docker_pass("run", "--", "true", env={"GH": "se://Private/GitHub"})
    assert gone.stderr == b"Error: resolving GH: secret not found: Private/GitHub\n"
    assert ok("plugins", "1password", "purge").splitlines()[1] == (
        "No 1Password service account token was stored."
    )


def test_plugins_setup_1password_sdk_is_the_same_command() -> None:
    setup = ok("plugins", "setup", "1password-sdk", input=f"{TOKEN}\n".encode())
    assert setup.splitlines()[0].startswith(
        "Stored the 1Password service account token with the docker-pass"
    )
    assert setup.splitlines()[1] == "1password-sdk: running"
    assert TOKEN not in setup
    assert ok("plugins", "purge", "1password-sdk").splitlines() == [
        "1password-sdk: disabled",
        "Removed the 1Password service account token.",
    ]
    help_text = ok("plugins", "setup", "1password-sdk", "--help")
    assert 'echo "$OP_SERVICE_ACCOUNT_TOKEN" | docker pass plugins 1password setup' in help_text


def test_setup_with_a_rejected_token_reports_the_crash_without_the_token() -> None:
    result = docker_pass("plugins", "1password", "setup", input=b"ops_wrong-token\n")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines()[1] == f"1password-sdk: crashed ({TOKEN_REJECTED})"
    assert b"ops_wrong-token" not in result.stdout + result.stderr


def test_setup_needs_a_token_on_stdin() -> None:
    result = docker_pass("plugins", "1password", "setup", input=b"\n")
    assert result.returncode == 1
    assert result.stderr == (
        b"Error: no token given: pipe it on stdin, as in: "
        b'echo "$OP_SERVICE_ACCOUNT_TOKEN" | docker pass plugins 1password setup\n'
    )
    assert ls_rows()["1password-sdk"].split()[2] == "disabled"


def test_setup_takes_no_token_argument() -> None:
    result = docker_pass("plugins", "1password", "setup", TOKEN)
    assert result.returncode == 1
    assert result.stderr.startswith(
        b"Error: 1 unexpected argument (not shown, in case one is a secret)"
    )
    assert TOKEN.encode() not in result.stderr
    assert result.stderr.endswith(b"\nHint: run 'docker-pass --help' for usage\n")
    assert TOKEN.encode() not in result.stdout


def test_help_lists_setup_and_purge() -> None:
    out = ok("plugins", "1password", "--help")
    assert "setup" in out
    assert "purge" in out
    assert "plugins 1password setup" in out
    assert "1password" in ok("plugins", "--help")


def test_the_token_is_stored_in_the_internal_realm() -> None:
    ok("plugins", "1password", "setup", input=TOKEN.encode())
    listed = subprocess.run(
        [sys.executable, "-c", _LIST_INTERNAL], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split() == [
        "docker/secrets-engine/plugins/1password-sdk/service-account-token"
    ]


_LIST_INTERNAL = """
from docker_pass.core.registry import create_plugin
from docker_pass.core import Pattern
k = create_plugin("docker-pass")
print(*[i.id.value for i in k.list(Pattern("docker/secrets-engine/**"))])
k.stop()
"""


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_token_is_read_from_a_prompt_without_echo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return f" {TOKEN} "

    monkeypatch.setattr("getpass.getpass", getpass)
    setup = find_setup("1password-sdk")
    assert setup is not None
    assert read_secrets(setup, {}, _Terminal()) == {TOKEN_FIELD: TOKEN}
    assert prompts == ["1Password service account token: "]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "")
    with pytest.raises(UsageError, match="no token given"):
        read_secrets(setup, {}, _Terminal())


# -- choosing the plugin per command ---------------------------------------------------------


def test_ls_all_plugins_lists_the_keychain_and_1password_cli_with_providers() -> None:
    ok("set", "docker/auth/hub/alice=s3", "--metadata", "owner=alice")
    ok("plugins", "enable", "1password-cli")
    lines = ok("ls", "--all-plugins", "--long").splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "METADATA"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows["docker/auth/hub/alice"] == "docker-pass"
    assert rows["private/github"] == "1password-cli"
    assert ok("ls") == "docker/auth/hub/alice\n"  # the default is still the keychain alone
    assert ok("ls", "--plugin", "1password-cli", "private/*").splitlines() == [
        "private/github",
        "private/wi-fi",
    ]
    import json

    doc = json.loads(ok("ls", "--all-plugins", "--json", "docker/**"))
    version = ok("get", "--version", "docker/auth/hub/alice").strip()
    assert doc == [
        {
            "id": "docker/auth/hub/alice",
            "provider": "docker-pass",
            "metadata": {"owner": "alice"},
            "version": version,
        }
    ]
    assert data.GITHUB_PASSWORD not in ok("ls", "--all-plugins", "--json")


def test_ls_all_plugins_names_a_failing_plugin_and_still_lists_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok("set", "app/key=v")
    ok("plugins", "enable", "1password-cli")
    monkeypatch.setenv("FAKE_OP_MODE", "signed-out")
    result = docker_pass("ls", "--all-plugins", "--no-daemon")
    assert result.returncode == 0, result.stderr
    assert b"app/key" in result.stdout
    assert b"Warning: plugin 1password-cli is crashed: " in result.stderr
    # The plugin's message says what to run; the warning does not say it a second time.
    assert result.stderr.endswith(b", then run: docker pass plugins enable 1password-cli\n")
    assert result.stderr.count(b"docker pass plugins enable 1password-cli") == 1


def test_get_from_1password_cli_and_writes_refused_naming_the_writable_plugin() -> None:
    ok("plugins", "enable", "1password-cli")
    assert ok("get", "--plugin", "1password-cli", "--reveal", "private/github") == (
        data.GITHUB_PASSWORD
    )
    for verb in (
        ("set", "--plugin", "1password-cli", "a=b"),
        ("rm", "--plugin", "1password-cli", "a"),
    ):
        result = docker_pass(*verb)
        assert result.returncode == 1
        message = result.stderr.decode()
        assert message.startswith("Error: plugin 1password-cli is read-only")
        assert "writable plugins: docker-pass" in message
    result = docker_pass("get", "--plugin", "nope", "x")
    assert result.returncode == 1
    assert (
        b"unknown plugin 'nope' (known: 1password-cli, 1password-sdk, docker-pass, vault)"
        in result.stderr
    )
