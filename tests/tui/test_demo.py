"""The demo store behind ``docker pass ui --demo`` and ``scripts/demo``, and the ``ui`` verb."""

from __future__ import annotations

import os
from datetime import date
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.config import load_config
from docker_pass.core.errors import DockerPassError
from docker_pass.core.expiry import ExpiryState, expiry_of
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import WritablePlugin
from docker_pass.core.registry import create_plugin
from docker_pass.core.state import set_enabled
from docker_pass.tui.demo import (
    MARKER,
    OP_PLUGIN,
    SOON_SECRET,
    crash_tip,
    enter_demo,
    seeded_secrets,
)
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def restored_environ() -> Iterator[None]:
    """``enter_demo`` points this process's environment at the demo; undo that afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def no_op_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DOCKER_PASS_OP_PATH", raising=False)


@pytest.mark.usefixtures("restored_environ", "no_op_on_path")
def test_the_demo_is_a_seeded_file_store_confined_to_its_directory(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    enter_demo(root)
    assert (root / MARKER).exists()
    assert os.environ["DOCKER_PASS_STORE"] == "file"
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        assert os.environ[var].startswith(str(root))
    keychain = create_plugin("docker-pass")
    assert keychain.storage().startswith(f"file store {root}/data/docker-pass/store")
    listed = {i.id.value: dict(i.metadata) for i in keychain.list(Pattern("**"))}
    assert set(listed) == {id_ for id_, _, _ in seeded_secrets()}
    assert listed["myapp/prod/postgres/password"]["owner"] == "platform-team"
    # One long expired, one expiring soon after the demo was made.
    github = expiry_of(listed["docker/mcp/oauth/github"])
    slack = expiry_of(listed[SOON_SECRET[0]])
    assert github is not None
    assert github.state == ExpiryState.EXPIRED
    assert slack is not None
    assert slack.state == ExpiryState.SOON
    # The demo opens on its secrets, not on a crash: 1password-cli stays off (its default)
    # even where op is missing; the panel offers the crash as a choice (crash_tip).
    assert "1password-cli" not in load_config().get("plugins", {})
    assert crash_tip() == (
        "Demo: 1password-cli is off; space on its row shows how a crashed plugin looks."
    )


@pytest.mark.usefixtures("restored_environ", "no_op_on_path")
def test_a_second_start_keeps_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    enter_demo(root)
    keychain = create_plugin("docker-pass")
    assert isinstance(keychain, WritablePlugin)
    keychain.delete(ID("gh/ci/token"))
    enter_demo(root)
    ids = {i.id.value for i in create_plugin("docker-pass").list(Pattern("**"))}
    assert "gh/ci/token" not in ids
    assert len(ids) == len(seeded_secrets()) - 1


@pytest.mark.usefixtures("restored_environ")
def test_with_op_installed_the_demo_leaves_1password_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    op = bin_dir / "op"
    op.write_text("#!/bin/sh\nexit 1\n")
    op.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("DOCKER_PASS_OP_PATH", raising=False)
    enter_demo(tmp_path / "demo")
    assert "1password-cli" not in load_config().get("plugins", {})
    assert crash_tip() == ""  # enabling it would reach a real 1Password account: not offered


@pytest.mark.usefixtures("restored_environ", "no_op_on_path")
def test_a_demo_store_of_an_earlier_version_no_longer_opens_on_the_crash(tmp_path: Path) -> None:
    """An earlier demo enabled 1password-cli where op was missing; entering it again turns
    that plugin back off (once: a person who enables it afterwards keeps it on)."""
    root = tmp_path / "demo"
    enter_demo(root)
    set_enabled(OP_PLUGIN, True)
    (root / MARKER).write_text("A docker-pass demo store (made by an earlier version).\n")
    enter_demo(root)
    assert load_config()["plugins"][OP_PLUGIN]["enabled"] is False
    set_enabled(OP_PLUGIN, True)  # the person's own choice, after the upgrade
    enter_demo(root)
    assert load_config()["plugins"][OP_PLUGIN]["enabled"] is True


@pytest.mark.usefixtures("restored_environ")
def test_a_directory_that_is_not_a_demo_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(DockerPassError, match="not empty and not a docker-pass demo store"):
        enter_demo(tmp_path / "mine")


def test_ui_needs_a_terminal() -> None:
    result = docker_pass("ui")
    assert result.returncode == 1
    assert result.stderr == (
        b"Error: the terminal UI needs a terminal (stdin and stdout must be a TTY)\n"
    )


def test_demo_dir_goes_with_demo(tmp_path: Path) -> None:
    result = docker_pass("ui", "--demo-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == b"Error: --demo-dir goes with --demo\n"


def test_ui_help_names_the_demo_and_the_keys() -> None:
    out = docker_pass("ui", "--help").stdout.decode()
    assert "--demo" in out
    assert "? shows every key" in out


def test_the_soon_secret_expires_ten_days_after_the_demo_is_made() -> None:
    made = date(2026, 12, 1)
    ((_, _, meta),) = [s for s in seeded_secrets(made) if s[0] == SOON_SECRET[0]]
    assert meta["expires"] == "2026-12-11"
    expiry = expiry_of(meta, made)
    assert expiry is not None
    assert (expiry.state, expiry.mark()) == (ExpiryState.SOON, "expires in 10 d")
