"""``plugins setup NAME`` and ``plugins purge NAME`` are made from the plugin's setup form: a
plugin registered only through the entry-point group (``courier``, a test plugin no
docker-pass module names) gets both, with its ``--help``, through the real executable."""

from __future__ import annotations

import io
import json

import pytest

from docker_pass.cli.plugin_setup import read_secrets
from docker_pass.core.config import load_config
from docker_pass.core.errors import UsageError
from docker_pass.core.setup import Setup, SetupField
from tests.support.helpers import docker_pass
from tests.support.setup_plugin import NO_KEY, NOT_A_KEY, setup_plugin

__all__ = ["setup_plugin"]

KEY = "ck_not-a-real-courier-key"
ENDPOINT = "https://courier.example"
EXAMPLE = 'echo "$API_KEY" | docker pass plugins setup courier --endpoint URL'


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def out(*args: str, input: bytes | None = None) -> str:
    result = docker_pass(*args, input=input)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return result.stdout.decode()


def err(*args: str, input: bytes | None = None) -> str:
    result = docker_pass(*args, input=input)
    assert result.returncode == 1, result.stdout
    return result.stderr.decode()


def courier_row() -> list[str]:
    rows = out("plugins", "ls").splitlines()
    return next(row.split(maxsplit=5) for row in rows if row.startswith("courier "))


def test_help_comes_from_the_form(setup_plugin: str) -> None:
    text = out("plugins", "setup", "courier", "--help")
    assert text.startswith("usage: docker-pass plugins setup courier [-h] --endpoint URL\n")
    words = " ".join(text.split())
    assert "The courier plugin serves what Courier knows." in words
    assert "Where Courier answers." in words
    assert "The API key is read from stdin only, never from the command line" in words
    assert f"  {EXAMPLE}\n" in text
    assert "  docker pass plugins purge courier\n" in text
    assert "--api-key" not in text  # a secret is never an option


@pytest.mark.parametrize("verb", [(), ("setup",), ("purge",)], ids=["plugins", "setup", "purge"])
def test_the_plugins_that_can_be_set_up_are_listed(setup_plugin: str, verb: tuple[str]) -> None:
    text = out("plugins", *verb, "--help")
    listing = text[text.index("plugins that can be set up") :].splitlines()
    assert listing[1:] == ["  1password-sdk (or: 1password)", "  courier", "  vault"]
    assert out("plugins", *verb) == text  # no command: the same help


def test_setup_stores_the_key_writes_the_endpoint_and_enables_the_plugin(
    setup_plugin: str,
) -> None:
    assert courier_row()[2] == "disabled"
    done = out("plugins", "setup", "courier", "--endpoint", ENDPOINT, input=f"{KEY}\n".encode())
    lines = done.splitlines()
    assert lines[0].startswith("Stored the Courier API key with the docker-pass plugin: file store")
    assert lines[1:] == ["Wrote plugins.courier.endpoint to the config file.", "courier: running"]
    assert KEY not in done
    assert load_config()["plugins"]["courier"] == {"enabled": True, "endpoint": ENDPOINT}
    assert KEY not in json.dumps(load_config())
    assert courier_row()[2:] == ["running", "yes", "courier/**", f"Courier at {ENDPOINT}"]
    ran = docker_pass(
        "run", "--", "sh", "-c", 'printf %s "$N"', env={"N": "se://courier/key-length"}
    )
    assert ran.stdout == str(len(KEY)).encode()  # the plugin read the key back

    again = out("plugins", "courier", "setup", "--endpoint", ENDPOINT, input=KEY.encode())
    assert "replacing the earlier one" in again.splitlines()[0]


def test_the_key_is_read_from_stdin_only_and_checked_first(setup_plugin: str) -> None:
    missing = err("plugins", "setup", "courier", "--endpoint", ENDPOINT)
    assert missing == f"Error: no API key given: pipe it on stdin, as in: {EXAMPLE}\n"
    refused = err("plugins", "setup", "courier", "--endpoint", ENDPOINT, input=b"wrong-key\n")
    assert refused == f"Error: {NOT_A_KEY}\n"
    as_argument = err("plugins", "setup", "courier", "--endpoint", ENDPOINT, KEY)
    assert as_argument.startswith("Error: 1 unexpected argument (not shown, in case one is")
    assert KEY not in as_argument
    no_endpoint = err("plugins", "setup", "courier", input=KEY.encode())
    assert "--endpoint" in no_endpoint.splitlines()[0]
    assert "courier" not in load_config().get("plugins", {})
    assert courier_row()[2] == "disabled"


def test_purge_disables_the_plugin_and_removes_the_key(setup_plugin: str) -> None:
    out("plugins", "setup", "courier", "--endpoint", ENDPOINT, input=KEY.encode())
    assert out("plugins", "purge", "courier") == "courier: disabled\nRemoved the Courier API key.\n"
    assert out("plugins", "courier", "purge").endswith("No Courier API key was stored.\n")
    enabled = docker_pass("plugins", "enable", "courier")
    assert enabled.stdout.decode() == f"courier: crashed ({NO_KEY})\n"
    assert courier_row()[2] == "crashed"
    assert NO_KEY in courier_row()[5]


def test_a_plugin_without_a_form_or_no_plugin_is_one_clear_line(setup_plugin: str) -> None:
    have = "1password-sdk, courier, vault"
    assert err("plugins", "setup", "nope") == (
        f"Error: unknown plugin 'nope' (plugins with a setup form: {have})\n"
    )
    assert err("plugins", "purge", "docker-pass") == (
        f"Error: plugin docker-pass has no setup form (plugins that have one: {have})\n"
    )
    unknown_verb = err("plugins", "nope").splitlines()[0]
    assert unknown_verb.startswith("Error: argument COMMAND: invalid choice: 'nope'")


def test_the_global_flags_follow_a_generated_command(setup_plugin: str) -> None:
    done = docker_pass(
        "plugins", "setup", "courier", "--endpoint", ENDPOINT, "--no-daemon", input=KEY.encode()
    )
    assert done.returncode == 0, done.stderr
    crashed = docker_pass("plugins", "setup", "courier", "--debug", "--endpoint", ENDPOINT)
    assert crashed.returncode != 0
    assert b"Traceback" in crashed.stderr  # --debug reached the dispatcher


# -- which secret stdin holds: the form's rule, not the command's -----------------------------


class _Stdin(io.StringIO):
    """A stdin that is not a terminal, with bytes under ``buffer``."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.buffer = io.BytesIO(data)  # type: ignore[misc]

    def isatty(self) -> bool:
        return False


TWO_WAYS = Setup(
    "two-ways",
    "two-ways",
    (
        SetupField("user", "User", required=False),
        SetupField("password", "Password", secret=True, required=False, only_with="user"),
        SetupField("token", "Token", secret=True, required=False, only_without="user"),
        SetupField("otp", "One-time code", secret=True, required=False, only_with="user"),
    ),
)


def test_stdin_fills_the_secrets_in_play_one_line_each() -> None:
    assert read_secrets(TWO_WAYS, {"user": ""}, _Stdin(b" t0k \n")) == {"token": "t0k"}
    both = read_secrets(TWO_WAYS, {"user": "alice"}, _Stdin(b"pw\n123456\n"))
    assert both == {"password": "pw", "otp": "123456"}
    with pytest.raises(UsageError, match=r"^no one-time code given: pipe it on stdin, as in: "):
        read_secrets(TWO_WAYS, {"user": "alice"}, _Stdin(b"pw\n"))
    example = TWO_WAYS.example(TWO_WAYS.field_named("password"))
    assert example == 'echo "$PASSWORD" | docker pass plugins setup two-ways --user USER'
    with pytest.raises(UsageError, match=r"^the secrets on stdin are not UTF-8 text$"):
        read_secrets(TWO_WAYS, {"user": "alice"}, _Stdin(b"\xff\n"))
