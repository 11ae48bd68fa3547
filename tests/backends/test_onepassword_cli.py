"""The ``1password-cli`` plugin against the fake ``op`` (tests/support/fakes/op), alone and in an
engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.onepassword.cli_plugin import (
    OP_MISSING,
    PROMPT_DISMISSED,
    SIGNED_OUT,
    OnePasswordCliPlugin,
)
from docker_pass.core import ID, Envelope, Pattern
from docker_pass.core.config import config_path, save_config
from docker_pass.core.engine import Engine
from docker_pass.core.errors import FatalPluginError, PluginError
from docker_pass.core.plugin import Capability
from docker_pass.core.state import load_run_states
from tests.support.fakes import onepassword_data as data
from tests.support.fakes.controls import FAKES, FakeOp, op

if TYPE_CHECKING:
    from pathlib import Path

NAME = "1password-cli"
__all__ = ["op"]


def started() -> OnePasswordCliPlugin:
    plugin = OnePasswordCliPlugin()
    plugin.start()
    return plugin


def engine() -> Engine:
    """An engine holding only this plugin (constructed as the registry would: no arguments)."""
    return Engine(factories={NAME: OnePasswordCliPlugin})


def values(envelopes: list[Envelope]) -> list[tuple[str, bytes]]:
    return [(env.id.value, env.value) for env in envelopes]


# -- the plugin alone ----------------------------------------------------------------------


def test_declares_itself_as_a_configurable_read_only_plugin() -> None:
    assert OnePasswordCliPlugin.name == NAME
    assert OnePasswordCliPlugin.configurable is True
    assert Capability.WRITE not in OnePasswordCliPlugin.capabilities
    assert OnePasswordCliPlugin.enabled_by_default is False
    assert OnePasswordCliPlugin.pattern == Pattern("**")


def test_lists_items_under_their_readable_ids_without_reading_values(op: FakeOp) -> None:
    plugin = started()
    infos = plugin.list(Pattern("**"))
    assert [i.id.value for i in infos] == [
        "private/github",
        "work-_-ops/stripe-api-live",
        "private/wi-fi",
        "work-_-ops/server-notes",
        "work-_-ops/legacy-token",
        data.ODD_ID,
    ]
    assert infos[0].metadata["item_id"] == data.GITHUB_ID
    assert infos[0].metadata["vault"] == "Private"
    assert op.get_calls() == 0
    assert "6 items cached" in plugin.storage()
    assert str(FAKES / "op") in plugin.storage()


def test_item_list_is_read_once_however_many_secrets_are_resolved(op: FakeOp) -> None:
    plugin = started()
    for _ in range(3):
        assert values(plugin.resolve(Pattern("private/github"))) == [
            ("private/github", data.GITHUB_PASSWORD.encode())
        ]
    plugin.resolve(Pattern("Work-_-Ops/Stripe-API-Live"))
    plugin.list(Pattern("**"))
    assert op.list_calls() == 1
    assert op.get_calls() == 4
    assert plugin.list_reads == 1


def test_the_list_is_read_again_once_the_refresh_interval_has_passed(op: FakeOp) -> None:
    now = [1000.0]
    plugin = OnePasswordCliPlugin(refresh_interval=60, clock=lambda: now[0])
    plugin.start()
    now[0] += 59
    plugin.list(Pattern("**"))
    assert op.list_calls() == 1
    now[0] += 2
    plugin.list(Pattern("**"))
    assert op.list_calls() == 2


def test_a_failed_refresh_keeps_the_older_list(op: FakeOp) -> None:
    now = [0.0]
    plugin = OnePasswordCliPlugin(refresh_interval=10, clock=lambda: now[0])
    plugin.start()
    op.mode("malformed")
    now[0] += 11
    assert len(plugin.list(Pattern("**"))) == 6
    assert "last refresh failed: op item list gave malformed JSON" in plugin.storage()
    op.mode(None)
    now[0] += 11
    plugin.list(Pattern("**"))
    assert "last refresh failed" not in plugin.storage()
    assert op.list_calls() == 3


def test_primary_fields_of_each_kind_of_item(op: FakeOp) -> None:
    plugin = started()
    assert values(plugin.resolve(Pattern("work-_-ops/stripe-api-live"))) == [
        ("work-_-ops/stripe-api-live", data.STRIPE_KEY.encode())
    ]
    assert values(plugin.resolve(Pattern("work-_-ops/legacy-token"))) == [
        ("work-_-ops/legacy-token", data.LEGACY_CREDENTIAL.encode())
    ]
    assert values(plugin.resolve(Pattern(data.ODD_ID))) == [
        (data.ODD_ID, data.ODD_PASSWORD.encode())
    ]
    with pytest.raises(PluginError, match="'Server notes'") as caught:
        plugin.resolve(Pattern("work-_-ops/server-notes"))
    assert data.NOTES_TEXT not in str(caught.value)
    # A wildcard request skips the item with nothing to resolve to.
    assert [e.id.value for e in plugin.resolve(Pattern("work-_-ops/*"))] == [
        "work-_-ops/stripe-api-live",
        "work-_-ops/legacy-token",
    ]


def test_envelopes_carry_version_times_and_metadata_but_repr_hides_values(op: FakeOp) -> None:
    (env,) = started().resolve(Pattern("private/github"))
    assert env.provider == NAME
    assert env.version == "4"
    assert env.created_at is not None
    assert env.created_at.year == 2024
    assert env.metadata["field"] == "password"
    assert env.metadata["category"] == "LOGIN"
    assert data.GITHUB_PASSWORD not in repr(env)


def test_field_level_ids(op: FakeOp) -> None:
    plugin = started()
    assert values(plugin.resolve(Pattern("private/github/username"))) == [
        ("private/github/username", b"alice")
    ]
    assert values(plugin.resolve(Pattern("Private/GitHub/Security/Recovery-Code"))) == [
        ("Private/GitHub/Security/Recovery-Code", data.GITHUB_RECOVERY.encode())
    ]
    assert values(plugin.resolve(Pattern(f"{data.PRIVATE['id']}/github/recovery-code"))) == [
        (f"{data.PRIVATE['id']}/github/recovery-code", data.GITHUB_RECOVERY.encode())
    ]
    listed = [i.id.value for i in plugin.list(Pattern("private/github/*"))]
    assert listed == [
        "private/github/username",
        "private/github/password",
        "private/github/notesplain",
        "private/github/recovery-code",
    ]
    assert plugin.resolve(Pattern("private/github/nope")) == []


def test_an_item_deleted_since_listing_fails_that_request(op: FakeOp) -> None:
    plugin = started()
    items = data.sample_items()
    data.write_fixture(op.data, [i for i in items if i["id"] != data.GITHUB_ID])
    with pytest.raises(PluginError) as caught:
        plugin.resolve(Pattern("private/github"))
    assert not isinstance(caught.value, FatalPluginError)
    assert str(caught.value) == (
        f"op item get {data.GITHUB_ID}: not found in 1Password "
        "(deleted or moved since it was listed?)"
    )
    assert values(plugin.resolve(Pattern("private/wi-fi"))) == [
        ("private/wi-fi", data.WIFI_PASSWORD.encode())
    ]


def test_an_unknown_op_error_never_quotes_its_stderr(tmp_path: Path, op: FakeOp) -> None:
    noisy = tmp_path / "noisy-op"
    noisy.write_text("#!/bin/sh\necho 'oops: value=hunter2' >&2\nexit 3\n")
    noisy.chmod(0o755)
    plugin = OnePasswordCliPlugin(op_path=str(noisy))
    with pytest.raises(PluginError) as caught:
        plugin.start()
    assert str(caught.value) == "op item list: op failed (exit 3)"


def test_duplicate_titles(op: FakeOp) -> None:
    op.mode("duplicate-titles")
    plugin = started()
    twin = data.GITHUB_ID[:-1] + "z"
    with pytest.raises(PluginError) as caught:
        plugin.resolve(Pattern("private/github"))
    assert f"use one of their item IDs ({data.GITHUB_ID}, {twin})" in str(caught.value)
    assert values(plugin.resolve(Pattern(twin))) == [
        (twin, b"twin-" + data.GITHUB_PASSWORD.encode())
    ]
    ids = [i.id.value for i in plugin.list(Pattern("**"))]
    assert data.GITHUB_ID in ids
    assert twin in ids
    assert "private/github" not in ids


def test_values_are_never_written_to_disk(op: FakeOp, isolated_home: Path, tmp_path: Path) -> None:
    with engine() as eng:
        eng.enable(NAME)
        assert eng.resolve_all(Pattern("private/github"))[0].value == data.GITHUB_PASSWORD.encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != op.data]
    for path in written:
        assert data.GITHUB_PASSWORD.encode() not in path.read_bytes(), path


# -- settings ------------------------------------------------------------------------------


def test_settings_come_from_the_config_file_and_the_environment_wins(
    op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_config(
        {"plugins": {NAME: {"op_path": str(FAKES / "op"), "timeout": 7, "refresh_interval": 42}}}
    )
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    plugin = started()
    assert plugin.timeout == 7
    assert plugin.refresh_interval == 42
    assert str(FAKES / "op") in plugin.storage()
    monkeypatch.setenv("DOCKER_PASS_OP_TIMEOUT", "3")
    monkeypatch.setenv("DOCKER_PASS_OP_REFRESH", "5")
    plugin = OnePasswordCliPlugin()
    assert (plugin.timeout, plugin.refresh_interval) == (3, 5)


def test_a_bad_setting_is_fatal_and_names_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_PASS_OP_TIMEOUT", "soon")
    with pytest.raises(FatalPluginError, match=r"\$DOCKER_PASS_OP_TIMEOUT: 'soon' is not a number"):
        OnePasswordCliPlugin()
    monkeypatch.delenv("DOCKER_PASS_OP_TIMEOUT")
    save_config({"plugins": {NAME: {"op_path": "/nowhere/op"}}})
    with pytest.raises(FatalPluginError) as caught:
        OnePasswordCliPlugin().start()
    assert str(caught.value).startswith(f"config plugins.{NAME}.op_path: /nowhere/op is not")
    assert config_path().exists()


# -- through the engine: crashes, request errors, case-insensitivity -----------------------


def test_disabled_until_enabled(op: FakeOp) -> None:
    with engine() as eng:
        (status,) = eng.plugins()
        assert status.status == "disabled"
        assert eng.enable(NAME).status == "running"
    assert op.list_calls() == 1


def test_op_missing_crashes_with_the_fix_and_enable_brings_it_back(
    op: FakeOp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with engine() as eng:
        status = eng.enable(NAME)
    assert status.status == "crashed"
    assert status.message == OP_MISSING
    assert "install the 1Password CLI" in status.message
    assert "then run: docker pass plugins enable 1password-cli" in status.message
    # It stays down for later processes, without trying op again...
    with engine() as eng:
        assert eng.plugins()[0].status == "crashed"
    assert load_run_states()[NAME].status == "crashed"
    # ...until a person fixes the cause and enables it.
    monkeypatch.setenv("PATH", f"{FAKES}:/usr/bin:/bin")
    with engine() as eng:
        assert eng.plugins()[0].status == "crashed"
        assert eng.enable(NAME).status == "running"
        assert eng.resolve_all(Pattern("private/github"))[0].value == (
            data.GITHUB_PASSWORD.encode()
        )


@pytest.mark.parametrize(
    ("mode", "message"),
    [("prompt-dismissed", PROMPT_DISMISSED), ("signed-out", SIGNED_OUT)],
)
def test_fatal_op_answers_on_start_crash_the_plugin(op: FakeOp, mode: str, message: str) -> None:
    op.mode(mode)
    with engine() as eng:
        status = eng.enable(NAME)
    assert (status.status, status.message) == ("crashed", message)
    assert message.endswith("then run: docker pass plugins enable 1password-cli")
    op.mode(None)
    with engine() as eng:
        assert eng.plugins()[0].status == "crashed"
        assert op.list_calls() == 1  # a crashed plugin is not retried
        assert eng.enable(NAME).status == "running"


@pytest.mark.parametrize(
    ("mode", "message"),
    [("prompt-dismissed", PROMPT_DISMISSED), ("signed-out", SIGNED_OUT)],
)
def test_fatal_op_answers_while_resolving_crash_the_plugin(
    op: FakeOp, mode: str, message: str
) -> None:
    with engine() as eng:
        assert eng.enable(NAME).status == "running"
        op.mode(mode)
        result = eng.resolve(Pattern("private/github"))
        assert result.envelopes == []
        assert result.errors == {NAME: message}
        assert eng.plugins()[0].status == "crashed"
    op.mode(None)
    with engine() as eng:
        assert eng.plugins()[0].message == message
        assert eng.enable(NAME).status == "running"


def test_a_slow_op_fails_only_that_request(op: FakeOp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_OP_TIMEOUT", "0.5")
    with engine() as eng:
        assert eng.enable(NAME).status == "running"
        op.mode("slow", delay=5)
        result = eng.resolve(Pattern("private/github"))
        assert result.errors == {NAME: f"op item get {data.GITHUB_ID} did not answer within 0.5 s"}
        op.mode(None)
        assert eng.plugins()[0].status == "running"
        assert eng.resolve_all(Pattern("private/github"))[0].value == (
            data.GITHUB_PASSWORD.encode()
        )


def test_malformed_json_fails_only_that_request(op: FakeOp) -> None:
    with engine() as eng:
        assert eng.enable(NAME).status == "running"
        op.mode("malformed")
        result = eng.resolve(Pattern("private/github"))
        assert result.errors == {NAME: f"op item get {data.GITHUB_ID} gave malformed JSON"}
        op.mode(None)
        assert eng.plugins()[0].status == "running"
        assert len(eng.resolve(Pattern("private/github")).envelopes) == 1


def test_malformed_json_on_start_is_an_ordinary_start_failure(op: FakeOp) -> None:
    op.mode("malformed")
    with engine() as eng:
        status = eng.enable(NAME)
    assert status.status == "stopped"
    assert status.message == "op item list gave malformed JSON"


def test_a_request_spelled_in_any_case_resolves_through_the_engine(op: FakeOp) -> None:
    with engine() as eng:
        eng.enable(NAME)
        (env,) = eng.resolve_all(Pattern("Private/GitHub"))
        assert env.id == ID("Private/GitHub")
        assert env.provider == NAME
        assert env.value == data.GITHUB_PASSWORD.encode()
        (upper,) = eng.resolve_all(Pattern("WORK-_-OPS/Stripe-API-Live"))
        assert upper.value == data.STRIPE_KEY.encode()
        spelled = eng.resolve(Pattern("PRIVATE/*")).envelopes
        assert [e.id.value for e in spelled] == ["PRIVATE/github", "PRIVATE/wi-fi"]
        listed = eng.list_secrets(Pattern("Private/*")).infos
        assert [i.id.value for i in listed] == ["Private/github", "Private/wi-fi"]


def test_resolves_next_to_the_keychain_in_the_default_engine(
    op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    with Engine() as eng:
        assert {s.name: s.status for s in eng.plugins()}[NAME] == "disabled"
        eng.enable(NAME)
        result = eng.resolve(Pattern("Private/GitHub"))
        assert [(e.id.value, e.provider) for e in result.envelopes] == [("Private/GitHub", NAME)]
        assert result.answered == ["docker-pass", NAME]


def test_state_file_never_holds_values(op: FakeOp, isolated_home: Path) -> None:
    with engine() as eng:
        eng.enable(NAME)
        eng.resolve_all(Pattern("private/github"))
    state = isolated_home / ".local/state/docker-pass/plugins.json"
    assert json.loads(state.read_text())[NAME]["status"] == "running"
    assert data.GITHUB_PASSWORD not in state.read_text()
