"""The command skeleton: help, version, exit codes, errors without tracebacks, plugin metadata."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from pathlib import Path


def test_help_lists_upstream_verbs() -> None:
    result = docker_pass("--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for verb in ("set", "get", "ls", "rm", "run", "plugins", "ui", "version", "install"):
        assert f"    {verb} " in out


def test_version() -> None:
    result = docker_pass("version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("docker-pass version 0.1.0")
    as_json = json.loads(docker_pass("version", "--json").stdout)
    assert as_json["version"] == "0.1.0"


def test_leading_pass_argument_from_docker_is_accepted() -> None:
    result = docker_pass("pass", "version")
    assert result.returncode == 0
    assert b"docker-pass version" in result.stdout
    assert docker_pass("pass", "--help").stdout.startswith(b"usage: docker pass ")


def test_plugin_metadata() -> None:
    result = docker_pass("docker-cli-plugin-metadata")
    assert result.returncode == 0
    meta = json.loads(result.stdout)
    assert meta["SchemaVersion"] == "0.1.0"
    assert meta["Vendor"]
    assert meta["Version"] == "v0.1.0"
    assert meta["ShortDescription"]


def test_unknown_verb_is_a_usage_error() -> None:
    result = docker_pass("frobnicate")
    assert result.returncode != 0
    assert b"Traceback" not in result.stderr
    assert b"invalid choice" in result.stderr


def test_debug_flag_and_env_show_tracebacks_only_when_asked(tmp_path: Path) -> None:
    # A broken DOCKER_CONFIG (a file, not a dir) makes install fail with an OS error.
    config = tmp_path / "not-a-dir"
    config.write_text("x")
    env = {"DOCKER_CONFIG": str(config)}
    quiet = docker_pass("install", env=env)
    assert quiet.returncode == 1
    assert b"Traceback" not in quiet.stderr
    assert quiet.stderr.startswith(b"Error: ")
    assert len(quiet.stderr.decode().strip().splitlines()) == 1
    loud = docker_pass("--debug", "install", env=env)
    assert loud.returncode == 1
    assert b"Traceback" in loud.stderr
    via_env = docker_pass("install", env={**env, "DOCKER_PASS_DEBUG": "1"})
    assert b"Traceback" in via_env.stderr


def test_install_links_into_docker_config_and_uninstall_removes(isolated_home: Path) -> None:
    docker_config = isolated_home / ".docker"
    link = docker_config / "cli-plugins" / "docker-pass"
    result = docker_pass("install")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert link.resolve() == EXECUTABLE.resolve()
    assert f"Installed: {link}".encode() in result.stdout
    again = docker_pass("install")
    assert b"Already installed" in again.stdout
    removed = docker_pass("install", "--uninstall")
    assert removed.returncode == 0
    assert not link.exists()
    assert f"Removed: {link}".encode() in removed.stdout


def test_install_refuses_to_clobber_a_foreign_plugin(isolated_home: Path) -> None:
    link = isolated_home / ".docker" / "cli-plugins" / "docker-pass"
    link.parent.mkdir(parents=True)
    link.write_text("#!/bin/sh\necho docker's own\n")
    refused = docker_pass("install")
    assert refused.returncode == 1
    assert b"--force" in refused.stderr
    assert link.read_text().startswith("#!/bin/sh")
    refused_rm = docker_pass("install", "--uninstall")
    assert refused_rm.returncode == 1
    assert link.exists()
    forced = docker_pass("install", "--force")
    assert forced.returncode == 0
    assert link.is_symlink()
