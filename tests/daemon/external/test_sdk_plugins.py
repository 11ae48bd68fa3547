"""Plugins speaking Docker's SDK protocol on the real daemon, both ways they come: dialling in
(``GET /hijack``) and launched from the plugins directory.  The plugin here is our Python
program (``tests/support/sdk_plugin.py``), so this runs wherever the suite does; the same
scenes with Docker's own ``fixed-plugin`` are in ``test_fixed_plugin.py``."""

from __future__ import annotations

import json
import os
import signal
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.state import RunStatus
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from tests.daemon.engines import start_engine
from tests.daemon.external.hosting import (
    install_program,
    install_sdk_plugin,
    plugins_dir,
    read_pids,
    sdk_plugin,
    state_of,
    statuses,
    wait_for,
)
from tests.daemon.upstream_wire import UpstreamWireClient
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from tests.daemon.engines import RunningEngine

__all__ = ["plugins_dir"]  # the fixture, used by name

PRINT_X = ("run", "--", "sh", "-c", 'printf %s "$X"')


def registered(name: str) -> Callable[[], dict[str, object] | None]:
    def check() -> dict[str, object] | None:
        found = statuses().get(name)
        return found if found is not None and found["status"] == "running" else None

    return check


def test_a_plugin_that_dials_in_registers_resolves_and_shows(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = spawn(sdk_plugin("--socket", str(engine.socket)), stderr=-1)
    row = wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    assert (row["version"], row["pattern"], row["external"]) == ("v1.2.3", "sdk/**", True)
    assert row["capabilities"] == ["read"]
    assert str(row["storage"]).startswith(f"external, connected by pid {plugin.pid}")

    resolved = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
    assert (resolved.returncode, resolved.stdout) == (0, b"from-python")
    got = docker_pass("get", "sdk/hello", "--plugin", "sdk-plugin", "--json", "--reveal")
    assert got.returncode == 0, got.stderr
    # The provider is the registered name, whatever the plugin put in its envelopes.
    assert json.loads(got.stdout) == {
        "id": "sdk/hello",
        "provider": "sdk-plugin",
        "metadata": {"origin": "sdk-plugin"},
        "value": "from-python",
        "version": "v1",  # the envelope's own version, as the SDK sends it
    }
    table = docker_pass("plugins", "ls").stdout.decode().splitlines()
    shown = f"sdk-plugin  v1.2.3  running  yes  sdk/**  external, connected by pid {plugin.pid}"
    assert any(" ".join(r.split()) == " ".join(shown.split()) for r in table)
    # Listing has no call in the SDK: the plugin says it cannot, not that it is empty.
    listed = docker_pass("ls", "--plugin", "sdk-plugin")
    assert listed.returncode == 1
    assert b"plugin sdk-plugin cannot list its secrets" in listed.stderr
    everyone = docker_pass("ls", "--all-plugins")
    assert b"plugin sdk-plugin: cannot list its secrets" in everyone.stderr
    # Not a failure: the keychain answered (with nothing), the plugin only cannot list.
    assert everyone.returncode == 0, everyone.stderr


def test_docker_s_client_sees_it_as_an_external_plugin(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    spawn(sdk_plugin("--socket", str(engine.socket)))
    wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    with UpstreamWireClient(str(engine.socket)) as client:
        plugins = {p["name"]: p for p in client.list_plugins()}
        envelopes = client.get_secrets("sdk/hello").envelopes
    assert plugins["sdk-plugin"]["external"] is True
    assert plugins["sdk-plugin"]["pattern"] == "sdk/**"
    assert [(e.id, e.value, e.provider) for e in envelopes] == [
        ("sdk/hello", b"from-python", "sdk-plugin")
    ]


def test_a_plugin_that_dials_in_is_removed_once_it_is_gone(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = spawn(sdk_plugin("--socket", str(engine.socket)))
    wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    plugin.send_signal(signal.SIGKILL)
    wait_for(lambda: "sdk-plugin" not in statuses(), "sdk-plugin to be removed")
    assert state_of("sdk-plugin").message == "disconnected"  # what the UI's poll notices
    missing = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
    assert missing.returncode == 1
    # It comes back when it dials in again.
    spawn(sdk_plugin("--socket", str(engine.socket)))
    wait_for(registered("sdk-plugin"), "sdk-plugin to register again")


def test_disable_and_enable_by_name(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    spawn(sdk_plugin("--socket", str(engine.socket)))
    wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    disabled = docker_pass("plugins", "disable", "sdk-plugin")
    assert (disabled.returncode, disabled.stdout) == (0, b"sdk-plugin: disabled\n")
    assert docker_pass(*PRINT_X, env={"X": "se://sdk/hello"}).returncode == 1
    enabled = docker_pass("plugins", "enable", "sdk-plugin")
    assert (enabled.returncode, enabled.stdout) == (0, b"sdk-plugin: running\n")
    resolved = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
    assert (resolved.returncode, resolved.stdout) == (0, b"from-python")


def test_engine_stop_shuts_a_plugin_that_dialled_in_down(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = spawn(sdk_plugin("--socket", str(engine.socket)), stderr=-1)
    wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    assert engine.stop() == 0
    assert plugin.wait(timeout=30) == 0
    assert plugin.stderr is not None
    assert b"sdk-plugin: shutdown asked" in plugin.stderr.read()


def test_a_launched_plugin_is_up_before_clients_and_comes_back_after_a_crash(
    tmp_path: Path,
    socket_path: Path,
    plugins_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pids = tmp_path / "pids"
    install_sdk_plugin(plugins_dir, "launched", "--pattern", "sdk/**", "--pid-file", str(pids))
    # A pause long enough to see "crashed" before it is back.
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_BACKOFF", "1.5")
    running = start_engine(tmp_path / "engine.log")
    try:
        row = statuses()["launched"]  # no waiting: launched plugins register first
        assert (row["status"], row["external"]) == ("running", True)
        assert str(row["storage"]).startswith("external, launched from ")
        resolved = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
        assert (resolved.returncode, resolved.stdout) == (0, b"from-python")

        os.kill(read_pids(pids)[0], signal.SIGKILL)
        crashed = wait_for(
            lambda: state_of("launched").status is RunStatus.CRASHED, "launched to be crashed"
        )
        assert crashed
        assert "killed by signal SIGKILL" in state_of("launched").message
        wait_for(registered("launched"), "launched to be back")
        assert len(read_pids(pids)) == 2
        again = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
        assert (again.returncode, again.stdout) == (0, b"from-python")

        assert running.stop() == 0
        assert "plugin launched stopped (exit 0)" in running.log()
    finally:
        running.kill()


def test_an_always_exiting_plugin_exceeds_its_retries(
    tmp_path: Path, socket_path: Path, plugins_dir: Path
) -> None:
    install_program(plugins_dir, "always-exits", "echo 'broken on purpose' >&2\nexit 7\n")
    (tmp_path / "home/.config/docker-pass").mkdir(parents=True, exist_ok=True)
    (tmp_path / "home/.config/docker-pass/config.json").write_text(
        json.dumps({"engine": {"plugin_retries": 2}})
    )
    running = start_engine(tmp_path / "engine.log")
    try:
        wait_for(
            lambda: state_of("always-exits").status is RunStatus.RETRIES_EXCEEDED,
            "always-exits to be given up on",
        )
        row = statuses()["always-exits"]
        assert row["status"] == "retries-exceeded"
        assert row["message"] == "exited with status 7: broken on purpose (gave up after 3 tries)"
        with UpstreamWireClient(str(socket_path)) as client:
            raw = {p["name"]: p for p in client.list_plugins()}
        assert raw["always-exits"]["run_status"] == plugins_pb.RunStatus.RETRIES_EXCEEDED

        # Enabling it launches it again (and it is given up on again).
        before = state_of("always-exits").changed_at
        docker_pass("plugins", "enable", "always-exits")
        wait_for(
            lambda: (
                state_of("always-exits").status is RunStatus.RETRIES_EXCEEDED
                and state_of("always-exits").changed_at > before
            ),
            "always-exits to be tried again",
        )
    finally:
        running.kill()


def test_a_launched_plugin_may_not_register_another_name(
    tmp_path: Path, socket_path: Path, plugins_dir: Path
) -> None:
    install_sdk_plugin(plugins_dir, "renamer", "--misbehave", "wrong-name", "--name", "other")
    running = start_engine(tmp_path / "engine.log")
    try:
        state = wait_for(
            lambda: (s := state_of("renamer")).status is not RunStatus.STOPPED and s, "a verdict"
        )
        assert state.status in (RunStatus.CRASHED, RunStatus.RETRIES_EXCEEDED)
        assert state.message.startswith(
            "did not register: plugin name cannot be changed when launched by the engine "
            "(launched as renamer); exited with status 2: "
        )
        assert "other" not in statuses()
    finally:
        running.kill()


def test_without_the_daemon_run_names_the_external_plugins_it_could_not_ask(
    plugins_dir: Path, socket_path: Path
) -> None:
    install_sdk_plugin(plugins_dir, "launched")
    failed = docker_pass(*PRINT_X, env={"X": "se://sdk/hello"})
    assert failed.returncode == 1
    assert failed.stderr.decode().endswith(
        "Hint: external plugin launched not asked: it runs only in the engine daemon "
        "(docker pass engine run)\n"
    )
    unknown = docker_pass("get", "sdk/hello", "--plugin", "launched")
    assert unknown.returncode == 1
    assert b"Hint: external plugin launched not asked" in unknown.stderr


def test_the_ui_s_gateway_reads_it_and_says_it_cannot_list(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    from docker_pass.core import ID, SecretInfo
    from docker_pass.core.errors import DockerPassError
    from docker_pass.core.remote.front import open_engine
    from docker_pass.tui.model.gateway import SecretsGateway

    spawn(sdk_plugin("--socket", str(engine.socket)))
    wait_for(registered("sdk-plugin"), "sdk-plugin to register")
    gateway = SecretsGateway(open_engine)
    try:
        shown = {p.name: p for p in gateway.plugins()}["sdk-plugin"]
        assert (shown.status, shown.external, shown.writable) == ("running", True, False)
        # The tree shows this error in the plugin's row, not an empty realm.
        with pytest.raises(DockerPassError, match="plugin sdk-plugin cannot list its secrets"):
            gateway.list_plugin("sdk-plugin")
        assert gateway.read_value(SecretInfo(ID("sdk/hello"), "sdk-plugin")) == b"from-python"
    finally:
        gateway.close()


def test_a_program_others_may_write_is_not_launched(
    tmp_path: Path, socket_path: Path, plugins_dir: Path
) -> None:
    install_sdk_plugin(plugins_dir, "open-to-all").chmod(0o757)
    install_sdk_plugin(plugins_dir, "launched")
    running = start_engine(tmp_path / "engine.log")
    try:
        assert "open-to-all" not in statuses()
        assert statuses()["launched"]["status"] == "running"
        assert "open-to-all: it is writable by others (chmod go-w)" in running.log()
    finally:
        running.kill()


def test_engine_stop_interrupts_then_kills_a_launched_plugin_that_will_not_stop(
    tmp_path: Path, socket_path: Path, plugins_dir: Path
) -> None:
    notes = tmp_path / "notes"
    install_sdk_plugin(
        plugins_dir, "stubborn", "--misbehave", "stubborn", "--note-file", str(notes)
    )
    running = start_engine(tmp_path / "engine.log")
    try:
        assert statuses()["stubborn"]["status"] == "running"
        assert running.stop() == 0
        log = running.log()
        assert "plugin stubborn: Shutdown: no answer within" in log  # asked first,
        assert notes.read_text() == "interrupted\n"  # then interrupted,
        assert "plugin stubborn stopped (signal 9)" in log  # then killed
    finally:
        running.kill()
