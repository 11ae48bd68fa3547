"""The ``1password-sdk`` plugin with the fake SDK client (tests/support/fakes/onepassword_sdk.py).

One test also runs the real ``onepassword-sdk`` client with a malformed token, which it refuses
without reaching 1Password's servers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from docker_pass.backends.onepassword.sdk_plugin import (
    CLIENT_ENV,
    NO_TOKEN,
    TOKEN_FIELD,
    TOKEN_REJECTED,
    OnePasswordSdkPlugin,
    classify_sdk_error,
    read_token_from_keychain,
)
from docker_pass.core import ID, Envelope, Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.errors import FatalPluginError, PluginError
from docker_pass.core.plugin import Capability
from docker_pass.core.setup import secret_id
from tests.support.fakes import onepassword_data as data
from tests.support.fakes.controls import SDK_TOKEN as TOKEN
from tests.support.fakes.controls import FakeSdk, sdk
from tests.support.fakes.onepassword_data import TOKEN_ID
from tests.support.fakes.onepassword_sdk import FakeClient

NAME = "1password-sdk"
__all__ = ["sdk"]


def store_token(token: str = TOKEN) -> None:
    with Engine.for_plugin("docker-pass") as keychain:
        keychain.save(ID(TOKEN_ID), token.encode(), {})


def started() -> OnePasswordSdkPlugin:
    plugin = OnePasswordSdkPlugin(token_source=lambda: TOKEN, authenticate=FakeClient.authenticate)
    plugin.start()
    return plugin


def engine() -> Engine:
    return Engine(factories={NAME: OnePasswordSdkPlugin})


def values(envelopes: list[Envelope]) -> list[tuple[str, bytes]]:
    return [(env.id.value, env.value) for env in envelopes]


def test_declares_itself_as_a_configurable_read_only_plugin() -> None:
    assert OnePasswordSdkPlugin.name == NAME
    assert OnePasswordSdkPlugin.configurable is True
    assert Capability.WRITE not in OnePasswordSdkPlugin.capabilities
    assert OnePasswordSdkPlugin.enabled_by_default is False


def test_the_token_lives_where_the_setup_form_stores_it() -> None:
    """One home: the setup form's field, under the keychain's internal realm."""
    assert secret_id(NAME, TOKEN_FIELD).value == TOKEN_ID
    assert Pattern("docker/secrets-engine/**").matches(TOKEN_ID)


def test_resolves_with_the_sdk_shapes(sdk: FakeSdk) -> None:
    plugin = started()
    try:
        assert values(plugin.resolve(Pattern("Private/GitHub"))) == [
            ("Private/GitHub", data.GITHUB_PASSWORD.encode())
        ]
        assert values(plugin.resolve(Pattern("work-_-ops/stripe-api-live"))) == [
            ("work-_-ops/stripe-api-live", data.STRIPE_KEY.encode())
        ]
        assert values(plugin.resolve(Pattern("work-_-ops/legacy-token"))) == [
            ("work-_-ops/legacy-token", data.LEGACY_CREDENTIAL.encode())
        ]
        # The SDK keeps notes apart from the fields; they answer as op's notesPlain field.
        assert values(plugin.resolve(Pattern("work-_-ops/server-notes/notesplain"))) == [
            ("work-_-ops/server-notes/notesplain", data.NOTES_TEXT.encode())
        ]
        assert values(plugin.resolve(Pattern("private/github/security/recovery-code"))) == [
            ("private/github/security/recovery-code", data.GITHUB_RECOVERY.encode())
        ]
        (info,) = plugin.list(Pattern("private/github"))
        assert info.metadata["category"] == "LOGIN"
        assert info.metadata["updated_at"] == "2024-06-07T08:09:10+00:00"
        assert info.metadata["vault"] == "Private"
        (api,) = plugin.list(Pattern("work-_-ops/stripe-api-live"))
        assert api.metadata["category"] == "API_CREDENTIAL"
    finally:
        plugin.stop()


def test_signs_in_as_docker_pass_and_reads_the_list_once(sdk: FakeSdk) -> None:
    plugin = started()
    try:
        for _ in range(3):
            plugin.resolve(Pattern("private/github"))
        plugin.list(Pattern("**"))
    finally:
        plugin.stop()
    assert sdk.count("authenticate docker-pass 0.1.0") == 1
    assert sdk.count("vaults.list") == 1
    assert sdk.count("items.list") == 2  # one per vault
    assert sdk.count("items.get") == 3


def test_resolves_from_several_threads_at_once(sdk: FakeSdk) -> None:
    plugin = started()
    results: list[bytes] = []

    def resolve() -> None:
        results.extend(e.value for e in plugin.resolve(Pattern("private/wi-fi")))

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    plugin.stop()
    assert results == [data.WIFI_PASSWORD.encode()] * 8


def test_token_is_read_from_the_keychain_plugin(sdk: FakeSdk) -> None:
    with pytest.raises(FatalPluginError) as caught:
        read_token_from_keychain()
    assert str(caught.value) == NO_TOKEN
    store_token(f"  {TOKEN}\n")
    assert read_token_from_keychain() == TOKEN


def test_enabled_through_the_engine_with_the_stored_token(sdk: FakeSdk) -> None:
    store_token()
    with engine() as eng:
        assert eng.plugins()[0].status == "disabled"
        assert eng.enable(NAME).status == "running"
        (env,) = eng.resolve_all(Pattern("Private/GitHub"))
        assert (env.id.value, env.provider) == ("Private/GitHub", NAME)
        assert env.value == data.GITHUB_PASSWORD.encode()


def test_no_stored_token_crashes_with_the_setup_command(sdk: FakeSdk) -> None:
    with engine() as eng:
        status = eng.enable(NAME)
    assert (status.status, status.message) == ("crashed", NO_TOKEN)
    assert "docker pass plugins 1password setup" in status.message


def test_an_invalid_token_crashes_without_showing_the_token(sdk: FakeSdk) -> None:
    store_token("ops_not-the-right-one")
    with engine() as eng:
        status = eng.enable(NAME)
    assert (status.status, status.message) == ("crashed", TOKEN_REJECTED)
    assert "ops_not-the-right-one" not in status.message
    store_token()
    with engine() as eng:
        assert eng.plugins()[0].status == "crashed"
        assert eng.enable(NAME).status == "running"


def test_a_token_revoked_while_running_crashes_the_plugin(sdk: FakeSdk) -> None:
    store_token()
    with engine() as eng:
        assert eng.enable(NAME).status == "running"
        sdk.mode("revoked")
        result = eng.resolve(Pattern("private/github"))
        assert result.errors == {NAME: TOKEN_REJECTED}
        assert eng.plugins()[0].status == "crashed"


def test_a_slow_call_fails_only_that_request(sdk: FakeSdk, monkeypatch: pytest.MonkeyPatch) -> None:
    store_token()
    monkeypatch.setenv("DOCKER_PASS_OP_SDK_TIMEOUT", "0.3")
    with engine() as eng:
        assert eng.enable(NAME).status == "running"
        sdk.mode("slow", delay=3)
        result = eng.resolve(Pattern("private/github"))
        assert result.errors == {
            NAME: f"reading item {data.GITHUB_ID}: 1Password did not answer within 0.3 s"
        }
        sdk.mode(None)
        assert eng.plugins()[0].status == "running"
        assert len(eng.resolve(Pattern("private/github")).envelopes) == 1


def test_an_item_gone_since_listing_fails_that_request(sdk: FakeSdk) -> None:
    plugin = started()
    items = [i for i in data.sample_items() if i["id"] != data.GITHUB_ID]
    data.write_fixture(sdk.data, items)
    try:
        with pytest.raises(PluginError) as caught:
            plugin.resolve(Pattern("private/github"))
    finally:
        plugin.stop()
    assert not isinstance(caught.value, FatalPluginError)
    assert "not found in 1Password" in str(caught.value)


def test_sdk_errors_are_classified_and_never_quoted() -> None:
    rate = classify_sdk_error(Exception("rate limit exceeded for token ops_x"), "listing vaults")
    assert str(rate) == "listing vaults: 1Password's rate limit was reached; try again later"
    other = classify_sdk_error(ValueError("value was hunter2"), "reading item x")
    assert str(other) == "reading item x: the 1Password SDK failed (ValueError)"
    assert isinstance(classify_sdk_error(Exception("401 Unauthorized"), "x"), FatalPluginError)
    assert isinstance(classify_sdk_error(ImportError("arch"), "x"), FatalPluginError)


def test_a_bad_client_hook_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLIENT_ENV, "tests.support.fakes.nowhere:authenticate")
    plugin = OnePasswordSdkPlugin(token_source=lambda: TOKEN)
    with pytest.raises(
        FatalPluginError, match=r"cannot load tests\.support\.fakes\.nowhere:authenticate"
    ):
        plugin.start()


def test_the_real_sdk_refuses_a_malformed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real client checks a token's format locally, before any network call."""
    pytest.importorskip("onepassword")
    monkeypatch.delenv(CLIENT_ENV, raising=False)
    plugin = OnePasswordSdkPlugin(token_source=lambda: "ops_malformed", timeout=30)
    with pytest.raises(FatalPluginError) as caught:
        plugin.start()
    assert str(caught.value) == TOKEN_REJECTED


def test_the_sdk_is_imported_only_when_the_plugin_starts() -> None:
    code = (
        "import sys, json\n"
        "from docker_pass.core.registry import load_plugin_class\n"
        "cls = load_plugin_class('1password-sdk')\n"
        "plugin = cls()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('onepassword', 'pydantic', 'asyncio'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.splitlines()[-1]) == []
