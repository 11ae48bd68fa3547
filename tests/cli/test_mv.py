"""``docker pass mv`` on the real stores, embedded and through the daemon: a secret renamed
within a plugin and moved across plugins (value and metadata with it), a realm moved with its
count confirmed, refusals that change nothing, and the references a move leaves behind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass
from tests.support.places import MODES, PLACES, FileStore, engine_mode, mode, place, vault_place
from tests.support.terminals import terminal
from tests.support.vault_server import bao_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.support.places import Mode, Place, Vault
    from tests.support.terminals import JoinedTerminal
    from tests.support.vault_server import BaoServer

__all__ = ["bao_server", "mode", "place", "terminal"]

pytestmark = pytest.mark.integration

MOVE = "/dockerpass.v1.SecretsService/MoveSecret"
MOVE_REALM = "/dockerpass.v1.SecretsService/MoveRealm"


def put(place: Place, id_: str, value: str, *meta: str) -> None:
    args = [a for m in meta for a in ("--metadata", m)]
    done = docker_pass("set", "--plugin", place.plugin, f"{id_}={value}", *args)
    assert done.returncode == 0, done.stderr


def mv(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    done = docker_pass("mv", *args, cwd=cwd)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


@pytest.mark.parametrize("place", PLACES, indirect=True)
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_rename_keeps_the_value_and_metadata(place: Place, mode: Mode) -> None:
    put(place, "app/db/password", "pw-1", "owner=alice")
    code, out, err = mv("--plugin", place.plugin, "app/db/password", "app/db/pg-password")
    assert (code, err) == (0, "")
    p = place.plugin
    assert out == f"Moved {p}:app/db/password to {p}:app/db/pg-password\n"
    assert place.read("app/db/password") is None
    assert place.read("app/db/pg-password") == b"pw-1"
    assert place.metadata("app/db/pg-password") == {"owner": "alice"}
    assert mode.requests(MOVE) == int(mode.daemon)


@pytest.mark.parametrize("place", PLACES, indirect=True)
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_a_taken_new_id_refuses_unless_replace(place: Place, mode: Mode) -> None:
    put(place, "app/a", "value-a")
    put(place, "app/b", "value-b")
    code, out, err = mv("--plugin", place.plugin, "app/a", "app/b")
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: {place.plugin}:app/b exists already")
    assert "nothing moved" in err
    assert "--replace" in err
    assert (place.read("app/a"), place.read("app/b")) == (b"value-a", b"value-b")
    code, _, err = mv("--plugin", place.plugin, "--replace", "app/a", "app/b")
    assert (code, err) == (0, "")
    assert (place.read("app/a"), place.read("app/b")) == (None, b"value-a")


@pytest.mark.parametrize("place", PLACES, indirect=True)
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_a_realm_moves_whole_with_its_count_confirmed(place: Place, mode: Mode) -> None:
    for id_ in ("team/a", "team/b/c", "team/b/d"):
        put(place, id_, f"v-{id_}")
    put(place, "team", "the-realm-name-itself")
    put(place, "teamster", "not-under-it")
    code, out, err = mv("--plugin", place.plugin, "team/", "crew/")
    assert (code, out) == (1, "")
    assert err == "Error: moving a realm (3 secrets from team/ to crew/) needs -y\n"
    assert place.read("crew/a") is None
    code, out, err = mv("--plugin", place.plugin, "-y", "team/", "crew")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Moved 3 of 3 secrets from team/ to crew/"
    for id_ in ("a", "b/c", "b/d"):
        assert place.read(f"team/{id_}") is None
        assert place.read(f"crew/{id_}") == f"v-team/{id_}".encode()
    assert place.read("team") == b"the-realm-name-itself"  # not under team/
    assert place.read("teamster") == b"not-under-it"
    assert mode.requests(MOVE_REALM) == int(mode.daemon)


@pytest.mark.parametrize("place", ["file"], indirect=True)
@pytest.mark.parametrize("mode", MODES, indirect=True)
def test_spellings_of_old_and_new(place: Place, mode: Mode) -> None:
    put(place, "team/a", "1")
    put(place, "team/b", "2")
    code, _, err = mv("team", "crew")
    assert code == 1
    assert err == (
        "Error: team is a realm (2 secrets under team/ in docker-pass), not a secret: "
        "write team/ to move them all\n"
    )
    code, out, err = mv("-y", "team/**", "staff/**")  # the pattern of a realm spells it too
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Moved 2 of 2 secrets from team/ to staff/"
    assert mv("-y", "staff/", "team/")[0] == 0
    code, out, err = mv("team/a", "elsewhere/")  # into a realm, under its own name
    assert (code, err) == (0, "")
    assert out == "Moved docker-pass:team/a to docker-pass:elsewhere/a\n"
    code, _, err = mv("nothing/here", "x")
    assert (code, err) == (1, "Error: secret not found: docker-pass:nothing/here\n")
    code, _, err = mv("-y", "nothing/", "x/")
    assert code == 1
    assert "no secret under it" in err
    code, _, err = mv("team/b", "team/b")
    assert (code, err) == (1, "Error: docker-pass:team/b is already there: nothing to move\n")
    code, _, err = mv("team/b", "docker/secrets-engine/x")
    assert code == 1
    assert "reserved" in err
    assert place.read("team/b") == b"2"


@pytest.fixture(params=MODES)
def vault_and_keychain(
    request: pytest.FixtureRequest,
    bao_server: BaoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Vault, FileStore, Mode]]:
    vault = vault_place(bao_server, monkeypatch)
    for mode_ in engine_mode(request.param, tmp_path, monkeypatch):
        yield vault, FileStore(), mode_


def test_across_plugins_both_ways(vault_and_keychain: tuple[Vault, FileStore, Mode]) -> None:
    vault, keychain, mode_ = vault_and_keychain
    put(keychain, "app/api", "key-1", "env=prod")
    code, out, err = mv("app/api", "app/api", "--to-plugin", "vault")
    assert (code, err) == (0, ""), err
    assert out == "Moved docker-pass:app/api to vault:app/api\n"
    assert (keychain.read("app/api"), vault.read("app/api")) == (None, b"key-1")
    assert vault.metadata("app/api") == {"env": "prod"}
    code, out, err = mv("--plugin", "vault", "--to-plugin", "docker-pass", "app/api", "back/api")
    assert (code, err) == (0, ""), err
    assert (vault.read("app/api"), keychain.read("back/api")) == (None, b"key-1")
    assert keychain.metadata("back/api") == {"env": "prod"}
    assert mode_.requests(MOVE) == 2 * int(mode_.daemon)


def test_a_realm_across_plugins(vault_and_keychain: tuple[Vault, FileStore, Mode]) -> None:
    vault, keychain, _ = vault_and_keychain
    for id_ in ("svc/a", "svc/b"):
        put(keychain, id_, f"v-{id_}")
    code, out, err = mv("-y", "svc/", "svc/", "--to-plugin", "vault")
    assert (code, err) == (0, ""), err
    assert out.splitlines()[-1] == "Moved 2 of 2 secrets from docker-pass:svc/ to vault:svc/"
    assert [vault.read("svc/a"), vault.read("svc/b")] == [b"v-svc/a", b"v-svc/b"]
    assert [keychain.read("svc/a"), keychain.read("svc/b")] == [None, None]


def test_json_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    put(FileStore(), "a/b", "1")
    code, out, _ = mv("--json", "a/b", "c/d")
    assert code == 0
    (entry,) = json.loads(out)
    assert entry["outcome"] == "moved"
    assert (entry["old"], entry["new"], entry["plugin"], entry["to_plugin"]) == (
        "a/b",
        "c/d",
        "docker-pass",
        "docker-pass",
    )
    assert entry["checked"] is True
    assert entry["version"]


COMPOSE = """\
services:
  web:
    image: nginx
    environment:
      API_KEY: se://app/key
      OTHER: se://app/keyring
  worker:
    image: busybox
    env_file: worker.env
"""


def test_references_left_behind_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "worker.env").write_text("# the worker\nKEY=se://app/key\n")
    (folder / ".env").write_text("UNRELATED=se://app/other\n")
    put(FileStore(), "app/key", "k")
    code, out, err = mv("app/key", "app/api-key", cwd=folder)
    assert code == 0
    assert out == "Moved docker-pass:app/key to docker-pass:app/api-key\n"
    assert err.splitlines() == [
        "Warning: still referring to app/key: compose.yaml:5 (service web, API_KEY)",
        "Warning: still referring to app/key: worker.env:2 (service worker, KEY)",
    ]
    elsewhere = tmp_path / "deploy.env"
    elsewhere.write_text("A=1\nTOKEN=se://app/api-key\n")
    code, _, err = mv("app/api-key", "app/token", "--file", str(elsewhere), cwd=folder)
    assert code == 0
    assert err.splitlines() == [f"Warning: still referring to app/api-key: {elsewhere}:2 (TOKEN)"]


def test_references_in_the_project_above_and_its_override_file_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    folder = tmp_path / "project"
    below = folder / "src" / "app"
    below.mkdir(parents=True)
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "worker.env").write_text("KEY=se://app/other\n")
    (folder / "compose.override.yml").write_text(
        "services:\n  web:\n    environment:\n      LOCAL_KEY: se://app/key\n"
    )
    put(FileStore(), "app/key", "k")
    code, _, err = mv("app/key", "app/api-key", cwd=below)
    assert code == 0
    assert err.splitlines() == [
        f"Warning: still referring to app/key: {folder / 'compose.yaml'}:5 (service web, API_KEY)",
        f"Warning: still referring to app/key: {folder / 'compose.override.yml'}:4"
        " (service web, LOCAL_KEY)",
    ]


def test_a_realm_is_confirmed_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, terminal: Callable[[str], JoinedTerminal]
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    keychain = FileStore()
    for id_ in ("team/a", "team/b"):
        put(keychain, id_, id_)
    no = terminal("mv team/ crew/")
    no.wait_for(lambda s: "Move 2 secrets from team/ to crew/? [y/N]" in s)
    no.send("n", "Enter")
    screen = no.wait_for(lambda s: "exit=" in s)
    assert "Error: nothing moved" in screen
    assert "exit=1" in screen
    assert keychain.read("team/a") == b"team/a"
    yes = terminal("mv team/ crew/")
    yes.wait_for(lambda s: "Move 2 secrets from team/ to crew/? [y/N]" in s)
    yes.send("y", "Enter")
    screen = yes.wait_for(lambda s: "exit=" in s)
    assert "Moved 2 of 2 secrets from team/ to crew/" in screen
    assert "exit=0" in screen
    assert (keychain.read("team/a"), keychain.read("crew/a")) == (None, b"team/a")
