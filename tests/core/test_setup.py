"""``apply_setup``: answers are checked (shape, then the plugin's check) before anything is
stored; secrets go to the keychain plugin, settings to the config file, then the plugin is
enabled."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.backends.onepassword.sdk_plugin import NOT_A_TOKEN
from docker_pass.core.config import load_config
from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import FatalPluginError, SecretNotFoundError, UsageError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_ONLY, READ_WRITE
from docker_pass.core.results import PluginStatus, Saved
from docker_pass.core.setup import (
    FIELD_WORDING,
    Answers,
    Setup,
    SetupError,
    SetupField,
    apply_setup,
    current_settings,
    find_setup,
    find_setups,
    secret_id,
)
from docker_pass.core.state import RunStatus
from tests.support.fakes.onepassword_data import TOKEN_ID

if TYPE_CHECKING:
    import builtins
    from collections.abc import Mapping

TOKEN = "ops_fake-service-account-token"


class FakeKeychainEngine:
    """Records what would be stored and enabled."""

    def __init__(self) -> None:
        self.saved: dict[str, bytes] = {}
        self.enabled: list[str] = []

    def save(
        self, id_: ID, value: bytes, metadata: Mapping[str, str], *, plugin: str = "docker-pass"
    ) -> Saved:
        replaced = id_.value in self.saved
        self.saved[id_.value] = value
        return Saved(id_, plugin, replaced)

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        return [
            PluginStatus(
                name="docker-pass",
                version="0.1.0",
                status=RunStatus.RUNNING,
                configurable=False,
                enabled=True,
                pattern="**",
                storage="fake",
            )
        ]

    def enable(self, name: str) -> PluginStatus:
        self.enabled.append(name)
        return PluginStatus(
            name=name,
            version="0.1.0",
            status=RunStatus.RUNNING,
            configurable=True,
            enabled=True,
            pattern="**",
        )


def vault_setup(refuse: str = "") -> Setup:
    """A Vault-like form: an address, an optional namespace and a token."""

    def check(values: Mapping[str, str]) -> None:
        if refuse and values["token"] == refuse:
            raise SetupError("the vault refused this token (permission denied)", "token")

    return Setup(
        "vault",
        "Vault",
        (
            SetupField("address", "Address", one_word=True),
            SetupField("namespace", "Namespace", required=False, default="admin"),
            SetupField("token", "Token", secret=True, one_word=True),
        ),
        check=check,
    )


def test_the_1password_sdk_plugin_describes_its_token_field() -> None:
    setup = find_setup("1password-sdk")
    assert setup is not None
    (field,) = setup.fields
    assert field.secret
    assert field.required
    assert secret_id(setup.plugin, field.name).value == TOKEN_ID
    assert find_setup("docker-pass") is None
    assert find_setup("no-such-plugin") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "  \n",
            "no token given: pipe it on stdin, as in: "
            'echo "$OP_SERVICE_ACCOUNT_TOKEN" | docker pass plugins 1password setup',
        ),
        (
            "ops_one ops_two",
            "stdin holds more than one word: give exactly one service account token",
        ),
        ("not-a-token", NOT_A_TOKEN),
    ],
)
def test_the_cli_wording_of_each_rule(raw: str, message: str) -> None:
    setup = find_setup("1password-sdk")
    assert setup is not None
    keychain = FakeKeychainEngine()
    with pytest.raises(SetupError) as caught:
        apply_setup(
            setup,
            {"service-account-token": raw},
            keychain=keychain,
            plugins=keychain,
            wording=setup.stdin_wording(),
        )
    assert str(caught.value) == message
    assert caught.value.field == "service-account-token"
    assert isinstance(caught.value, UsageError)
    assert keychain.saved == {}
    assert keychain.enabled == []


def test_the_form_wording_names_the_field_and_never_the_answer() -> None:
    setup = find_setup("1password-sdk")
    assert setup is not None
    keychain = FakeKeychainEngine()
    with pytest.raises(SetupError) as caught:
        apply_setup(
            setup, {"service-account-token": "ops_a secret"}, keychain=keychain, plugins=keychain
        )
    assert str(caught.value) == (
        "the field holds more than one word: give exactly one service account token"
    )
    assert "secret" not in str(caught.value)
    assert keychain.saved == {}


def test_a_good_token_is_stored_then_the_plugin_enabled() -> None:
    setup = find_setup("1password-sdk")
    assert setup is not None
    keychain = FakeKeychainEngine()
    result = apply_setup(
        setup, {"service-account-token": f" {TOKEN}\n"}, keychain=keychain, plugins=keychain
    )
    assert keychain.saved == {TOKEN_ID: TOKEN.encode()}
    assert keychain.enabled == ["1password-sdk"]
    assert result.status.status == RunStatus.RUNNING
    assert result.lines() == [
        "Stored the 1Password service account token with the docker-pass plugin: fake"
    ]
    again = apply_setup(
        setup, {"service-account-token": TOKEN}, keychain=keychain, plugins=keychain
    )
    assert again.lines() == [
        "Stored the 1Password service account token, replacing the earlier one, "
        "with the docker-pass plugin: fake"
    ]
    assert TOKEN not in repr(result) + repr(again)


def test_a_refusing_check_stores_nothing_and_writes_no_config() -> None:
    keychain = FakeKeychainEngine()
    answers = {"address": "https://vault:8200", "token": "hvs.bad"}
    with pytest.raises(SetupError, match="the vault refused this token") as caught:
        apply_setup(vault_setup(refuse="hvs.bad"), answers, keychain=keychain, plugins=keychain)
    assert caught.value.field == "token"
    assert keychain.saved == {}
    assert keychain.enabled == []
    assert load_config() == {}


def test_a_missing_required_field_is_refused_before_the_others_are_stored() -> None:
    keychain = FakeKeychainEngine()
    with pytest.raises(SetupError, match=r"^no address given: type it in the field$"):
        apply_setup(vault_setup(), {"token": "hvs.good"}, keychain=keychain, plugins=keychain)
    assert keychain.saved == {}
    assert load_config() == {}


def test_settings_go_to_the_config_file_and_secrets_to_the_keychain() -> None:
    keychain = FakeKeychainEngine()
    answers = Answers({"address": "https://vault:8200", "namespace": "", "token": "hvs.good"})
    assert "hvs.good" not in repr(answers)
    result = apply_setup(vault_setup(), answers, keychain=keychain, plugins=keychain)
    assert load_config() == {"plugins": {"vault": {"address": "https://vault:8200"}}}
    assert keychain.saved == {"docker/secrets-engine/plugins/vault/token": b"hvs.good"}
    assert keychain.enabled == ["vault"]
    assert result.settings == ("address",)
    assert result.lines()[-1] == "Wrote plugins.vault.address to the config file."
    assert current_settings(vault_setup()) == {
        "address": "https://vault:8200",
        "namespace": "admin",
    }


def test_a_control_character_is_refused() -> None:
    field = SetupField("ca", "CA certificate path")
    with pytest.raises(SetupError, match="the field holds a control character"):
        field.clean("/etc/ssl/a\x1b[2Jb.pem", FIELD_WORDING)
    assert field.clean(" /etc/ssl/my certs/ca.pem ") == "/etc/ssl/my certs/ca.pem"


# -- through a real engine: the keychain plugin and a plugin that reads what was stored -------


def engine_classes() -> dict[str, Any]:
    store: dict[str, bytes] = {}

    class Keychain:
        name = "docker-pass"
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = False
        capabilities = READ_WRITE

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return "memory"

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return [SecretInfo(ID(k), self.name) for k in store if pattern.matches(k)]

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return [self.get(ID(k)) for k in store if pattern.matches(k)]

        def get(self, id_: ID) -> Envelope:
            if id_.value not in store:
                raise SecretNotFoundError()
            return Envelope(id_, store[id_.value], self.name, metadata=MappingProxyType({}))

        def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
            store[id_.value] = value

        def delete(self, id_: ID) -> bool:
            return store.pop(id_.value, None) is not None

    class Vault:
        name = "vault"
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = True
        capabilities = READ_ONLY
        enabled_by_default = False

        @classmethod
        def setup_form(cls) -> Setup:
            return vault_setup()

        def start(self) -> None:
            if "docker/secrets-engine/plugins/vault/token" not in store:
                raise FatalPluginError("no token stored")

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return "vault"

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return []

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return []

    return {"docker-pass": Keychain, "vault": Vault}


def test_through_an_engine_the_plugin_comes_up_once_set_up() -> None:
    with Engine(factories=engine_classes()) as engine:
        before = {s.name: s for s in engine.plugins()}["vault"]
        assert before.status == RunStatus.DISABLED
        answers = {"address": "https://vault:8200", "token": "hvs.good"}
        result = apply_setup(vault_setup(), answers, keychain=engine, plugins=engine)
        assert result.status.status == RunStatus.RUNNING
        assert result.storage == "memory"
        assert load_config()["plugins"]["vault"] == {
            "address": "https://vault:8200",
            "enabled": True,
        }


def test_a_plugin_whose_form_cannot_be_read_is_left_out_of_the_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        @classmethod
        def setup_form(cls) -> Setup:
            raise RuntimeError("a third party's bug")

    real = find_setup("1password-sdk")
    assert real is not None

    def load(name: str, specs: object = None) -> object:
        if name == "broken":
            return Broken
        from docker_pass.backends.onepassword.sdk_plugin import OnePasswordSdkPlugin

        return OnePasswordSdkPlugin

    monkeypatch.setattr("docker_pass.core.registry.load_plugin_class", load)
    assert find_setups(["broken", "1password-sdk"]) == {"1password-sdk": real}
