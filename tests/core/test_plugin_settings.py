"""``PluginSettings``: the one way every plugin reads ``plugins.<name>`` (environment, then the
config file, then the default), with one wording for a value of the wrong kind."""

from __future__ import annotations

import pytest

from docker_pass.core.config import save_config
from docker_pass.core.config_schema import plugin_setting_problem
from docker_pass.core.errors import FatalPluginError
from docker_pass.core.plugin_settings import PluginSettings, is_seconds

ENABLE = "fix it, then run: docker pass plugins enable p"


def test_environment_then_config_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config({"plugins": {"p": {"timeout": 5, "path": " /opt/tool ", "blank": " "}}})
    settings = PluginSettings("p")
    assert settings.seconds("timeout", 30, env="P_TIMEOUT") == 5
    assert settings.where("timeout", env="P_TIMEOUT") == "config plugins.p.timeout"
    assert settings.seconds("refresh_interval", 300) == 300
    assert settings.where("refresh_interval") == "default"
    assert settings.text("path") == "/opt/tool"
    assert settings.text("blank", "fallback") == "fallback"
    monkeypatch.setenv("P_TIMEOUT", " 2.5 ")
    assert settings.seconds("timeout", 30, env="P_TIMEOUT") == 2.5
    assert settings.where("timeout", env="P_TIMEOUT") == "$P_TIMEOUT"


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "inf"])
def test_a_bad_number_names_where_it_came_from(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P_TIMEOUT", bad)
    with pytest.raises(FatalPluginError) as caught:
        PluginSettings("p", {}).seconds("timeout", 30, env="P_TIMEOUT")
    assert str(caught.value) == (
        f"$P_TIMEOUT: {bad!r} is not a number of seconds (0 or more); {ENABLE}"
    )


@pytest.mark.parametrize("bad", [True, "x" * 100, -3, [1]])
def test_a_bad_config_value_is_fatal_and_cut_short(bad: object) -> None:
    with pytest.raises(FatalPluginError) as caught:
        PluginSettings("p", {"concurrency": bad}).number("concurrency", 8)
    message = str(caught.value)
    assert message.startswith("config plugins.p.concurrency: ")
    assert message.endswith(f" is not a number (0 or more); {ENABLE}")
    assert "x" * 41 not in message


def test_text_must_be_a_string() -> None:
    with pytest.raises(FatalPluginError) as caught:
        PluginSettings("p", {"address": 8200}).text("address")
    assert str(caught.value) == f"config plugins.p.address must be a string; {ENABLE}"


def test_the_engine_checks_seconds_by_the_same_rule() -> None:
    for good in (0, 1, 2.5):
        assert is_seconds(good)
        assert plugin_setting_problem({"timeout": good}, "p", "f") == ""
    for bad in (True, -1, float("nan"), "5"):
        assert not is_seconds(bad)
        assert plugin_setting_problem({"timeout": bad}, "p", "f").startswith(
            "config f: plugins.p.timeout must be a number of seconds (0 or more), not "
        )
