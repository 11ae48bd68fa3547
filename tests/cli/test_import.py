"""`import` driven as a subprocess: a real-world-shaped .env round trip, reuse, refusals,
--dry-run and --json, hostile files, a read-only plugin, a failure half-way."""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.dists import install_plugin_dist
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

#: Every value the file holds, so each test can check none is ever printed.
VALUES = {
    "DATABASE_URL": "postgres://app:p%40ss@db:5432/app?sslmode=require",
    "API_TOKEN": "tok-123 # not a comment",
    "SINGLE": "it's here",
    "ESCAPED": 'line\nnext "quoted" tab\t',
    "PRIVATE_KEY": "-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----",
    "EQUALS": "a=b=c==",
    "UNICODE": "pässwörd-✓",
    "LAST": "no-newline-at-end",
}
ENV_TEXT = (
    "# Application settings\r\n"
    "\r\n"
    "export DATABASE_URL=postgres://app:p%40ss@db:5432/app?sslmode=require\r\n"
    'export  API_TOKEN = "tok-123 # not a comment"   # a comment\n'
    "SINGLE='it\\'s here'\n"
    'ESCAPED="line\\nnext \\"quoted\\" tab\\t"\n'
    'PRIVATE_KEY="-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"\n'
    "EQUALS=a=b=c==\n"
    "EMPTY=\n"
    "BARE\n"
    "ALREADY=se://shared/thing\n"
    "UNICODE=pässwörd-✓\n"
    "LAST=no-newline-at-end"
)
EXPECTED = (
    "# Application settings\r\n"
    "\r\n"
    "export DATABASE_URL=se://myapp/database_url\r\n"
    'export  API_TOKEN = "se://myapp/api_token"   # a comment\n'
    "SINGLE='se://myapp/single'\n"
    'ESCAPED="se://myapp/escaped"\n'
    'PRIVATE_KEY="se://myapp/private_key"\n'
    "EQUALS=se://myapp/equals\n"
    "EMPTY=\n"
    "BARE\n"
    "ALREADY=se://shared/thing\n"
    "UNICODE=se://myapp/unicode\n"
    "LAST=se://myapp/last"
)
KEYS = sorted([*VALUES, "ALREADY", "EMPTY"])
SHOW = f"import os, json; print(json.dumps({{k: os.environ.get(k) for k in {KEYS!r}}}))"


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("BARE", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "MyApp"
    folder.mkdir()
    env = folder / ".env"
    env.write_bytes(ENV_TEXT.encode())
    env.chmod(0o640)
    assert docker_pass("set", "shared/thing=shared-value-1").returncode == 0
    return env


def no_values_in(*outputs: bytes) -> None:
    for output in outputs:
        for value in VALUES.values():
            assert value.encode() not in output


def environment_of(env: Path) -> dict[str, str]:
    result = docker_pass("run", "--env-file", str(env), "--", sys.executable, "-c", SHOW)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_real_world_env_round_trips(project: Path) -> None:
    before = environment_of(project)
    result = docker_pass("import", project.name, cwd=project.parent)
    assert result.returncode == 0, result.stderr
    no_values_in(result.stdout, result.stderr)
    out = result.stdout.decode()
    assert "stored        DATABASE_URL (line 3) -> se://myapp/database_url" in out
    assert "kept          ALREADY (line 13): already a reference" in out
    assert "kept          EMPTY (line 11): empty value" in out
    assert project.read_bytes().decode() == EXPECTED
    assert stat.S_IMODE(project.stat().st_mode) == 0o640
    backup = project.with_name(".env.docker-pass-backup")
    assert backup.read_bytes() == ENV_TEXT.encode()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert f"backup: {backup.name}" in out
    # The same values reach a command; check passes.
    assert environment_of(project) == before
    checked = docker_pass("check", str(project))
    assert checked.returncode == 0, checked.stdout
    for key, value in VALUES.items():
        got = docker_pass("get", "--reveal", f"myapp/{key.lower()}")
        assert got.stdout.decode() == value


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_importing_a_users_file_leaves_it_and_its_backup_that_users(project: Path) -> None:
    nobody = 65534
    os.chown(project, nobody, nobody)
    result = docker_pass("import", str(project))
    assert result.returncode == 0, result.stderr
    assert project.read_bytes().decode() == EXPECTED
    status = project.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (nobody, nobody, 0o640)
    backup = project.with_name(".env.docker-pass-backup").stat()
    assert (backup.st_uid, backup.st_gid, stat.S_IMODE(backup.st_mode)) == (nobody, nobody, 0o600)


def test_importing_again_reuses_identical_values(project: Path) -> None:
    copy = project.with_name("copy.env")
    copy.write_bytes(ENV_TEXT.encode())
    assert docker_pass("import", str(project)).returncode == 0
    again = docker_pass("import", str(copy), "--json")
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    actions = {entry["key"]: entry["action"] for entry in document["entries"]}
    assert {actions[key] for key in VALUES} == {"reuse"}
    reasons = [e["reason"] for e in document["entries"] if e["key"] == "SINGLE"]
    assert reasons == ["myapp/single holds the same value"]
    assert document["prefix"] == "myapp"
    assert document["backup"] == f"{copy}.docker-pass-backup"
    assert copy.read_bytes().decode() == EXPECTED
    no_values_in(again.stdout)


def test_dry_run_changes_nothing_and_prints_no_value(project: Path) -> None:
    result = docker_pass("import", str(project), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would store   API_TOKEN (line 4) -> se://myapp/api_token" in result.stdout.decode()
    assert "would rewrite" in result.stdout.decode()
    no_values_in(result.stdout, result.stderr)
    assert project.read_bytes() == ENV_TEXT.encode()
    assert not project.with_name(".env.docker-pass-backup").exists()
    assert docker_pass("get", "myapp/api_token").returncode == 1


def test_a_different_stored_value_is_never_replaced_silently(tmp_path: Path) -> None:
    env = tmp_path / "app.env"
    env.write_text("TOKEN=new-token-value\nOTHER=other-value-1\n")
    assert docker_pass("set", "team/token=old-token-value").returncode == 0
    refused = docker_pass("import", str(env), "--prefix", "team/")
    assert refused.returncode == 1
    assert "refused       TOKEN (line 1): team/token holds a different value" in (
        refused.stdout.decode()
    )
    assert env.read_text() == "TOKEN=new-token-value\nOTHER=se://team/other\n"
    kept = docker_pass("get", "--reveal", "team/token").stdout
    assert kept == b"old-token-value"
    replaced = docker_pass("import", str(env), "--prefix", "team", "--overwrite")
    assert replaced.returncode == 0
    assert "replaced      TOKEN" in replaced.stdout.decode()
    assert env.read_text() == "TOKEN=se://team/token\nOTHER=se://team/other\n"
    assert docker_pass("get", "--reveal", "team/token").stdout == b"new-token-value"
    # Each run left its own backup: the second is numbered.
    assert env.with_name("app.env.docker-pass-backup.1").read_text().startswith("TOKEN=new")


def test_duplicate_keys_and_colliding_names(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=same-value\nA=same-value\nKey=one-value\nKEY=two-value\nx.y=v-1\n")
    result = docker_pass("import", str(env), "--prefix", "p", "--json")
    assert result.returncode == 1
    entries = json.loads(result.stdout)["entries"]
    assert [(e["key"], e["action"]) for e in entries] == [
        ("A", "store"),
        ("A", "reuse"),
        ("Key", "refuse"),
        ("KEY", "refuse"),
        ("x.y", "store"),
    ]
    assert "Key (line 3), KEY (line 4) all become p/key" in entries[2]["reason"]
    assert env.read_text() == (
        "A=se://p/a\nA=se://p/a\nKey=one-value\nKEY=two-value\nx.y=se://p/x.y\n"
    )


def test_odd_keys_become_valid_ids_and_long_ones_are_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    long_key = "K" * 300
    env.write_text(f"weird*KEY/ü=v-1\n{long_key}=v-2\n")
    result = docker_pass("import", str(env), "--prefix", "p", "--json")
    assert result.returncode == 1
    entries = json.loads(result.stdout)["entries"]
    assert entries[0]["id"] == "p/weird-key--"
    assert entries[1]["action"] == "refuse"
    assert "longer than 200" in entries[1]["reason"]


@pytest.mark.parametrize("prefix", ["a//b", "*", "docker/secrets-engine", "/x"])
def test_a_bad_prefix_is_an_error(tmp_path: Path, prefix: str) -> None:
    env = tmp_path / ".env"
    env.write_text("A=value-1\n")
    result = docker_pass("import", str(env), "--prefix", prefix)
    assert result.returncode == 1
    assert result.stderr.decode().startswith("Error: --prefix ")
    assert env.read_text() == "A=value-1\n"


def test_hostile_files_are_refused_with_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    link = tmp_path / "link.env"
    real = tmp_path / "real.env"
    real.write_text("A=value-1\n")
    link.symlink_to(real)
    huge = tmp_path / "huge.env"
    huge.write_bytes(b"A=" + b"x" * (9 * 1024 * 1024) + b"\n")
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"A=\xff\xfe\n")
    for path, words in (
        (fifo, "FIFO"),
        (link, "symbolic link"),
        (huge, "larger than"),
        (binary, "not UTF-8"),
        (tmp_path / "missing.env", "missing.env"),
        (tmp_path, "directory"),
    ):
        result = docker_pass("import", str(path), "--prefix", "p", timeout=30)
        assert result.returncode == 1, path
        error = result.stderr.decode()
        assert error.startswith("Error: "), error
        assert error.count("\n") == 1, error
        assert words in error, error
    assert real.read_text() == "A=value-1\n"
    assert link.is_symlink()


def test_a_missing_file_is_named_before_the_prefix_is_derived() -> None:
    # The folder "/" has no name to derive a prefix from; the missing file is the error.
    result = docker_pass("import", "/no-such-file-here.env", timeout=30)
    assert result.returncode == 1
    error = result.stderr.decode()
    assert "/no-such-file-here.env: No such file or directory" in error, error
    assert "--prefix" not in error, error


def test_a_dollar_is_read_as_compose_reads_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    text = "A=pa$$word-1\nB=\"x${HOME}y\"\nC='lit$$eral-3'\n"
    env.write_text(text)
    result = docker_pass("import", str(env), "--prefix", "d", "--json")
    assert result.returncode == 0, result.stderr
    entries = {entry["key"]: entry for entry in json.loads(result.stdout)["entries"]}
    for key in ("A", "B"):
        assert entries[key]["action"] == "keep"
        assert "Compose interpolates it ($)" in entries[key]["reason"]
    assert env.read_text() == "A=pa$$word-1\nB=\"x${HOME}y\"\nC='se://d/c'\n"
    assert docker_pass("get", "--reveal", "d/c").stdout == b"lit$$eral-3"
    # run --env-file takes the kept values as written, and the imported one as it was
    shown = docker_pass(
        "run", "--env-file", str(env), "--", "sh", "-c", 'printf "%s|%s|%s" "$A" "$B" "$C"'
    )
    assert shown.stdout == b"pa$$word-1|x${HOME}y|lit$$eral-3", shown.stderr

    compose = tmp_path / "compose.yaml"
    compose.write_text('services:\n  s:\n    environment:\n      P: "pa$$word-4"\n')
    result = docker_pass("import", "--format", "compose", str(compose), "--prefix", "c")
    assert result.returncode == 0, result.stderr
    assert docker_pass("get", "--reveal", "c/p").stdout == b"pa$word-4"  # what Compose passes


def test_a_read_only_plugin_is_refused(tmp_path: Path, memory_plugin: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=value-1\n")
    result = docker_pass("import", str(env), "--prefix", "p", "--plugin", "memory")
    assert result.returncode == 1
    assert "plugin memory is read-only" in result.stderr.decode()
    assert env.read_text() == "A=value-1\n"


def test_an_id_another_plugin_holds_is_refused(tmp_path: Path, memory_plugin: Path) -> None:
    memory_plugin.write_text(json.dumps({"p/a": "x"}))
    env = tmp_path / ".env"
    env.write_text("A=value-1\nB=value-2\n")
    result = docker_pass("import", str(env), "--prefix", "p")
    assert result.returncode == 1
    assert "refused       A (line 1): plugin memory holds p/a too" in result.stdout.decode()
    assert env.read_text() == "A=value-1\nB=se://p/b\n"


FAILING_PLUGIN = """
import json, os
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.errors import PluginError, SecretNotFoundError

class FailingPlugin:
    name = "failing"
    version = "1.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_WRITE

    def start(self): pass
    def stop(self): pass
    def storage(self): return "json"

    def _data(self):
        with open(os.environ["FAILING_PLUGIN_DATA"]) as f:
            return json.load(f)

    def list(self, pattern):
        return [SecretInfo(ID(k)) for k in self._data() if pattern.matches(k)]

    def resolve(self, pattern):
        return [Envelope(ID(k), v.encode()) for k, v in self._data().items() if pattern.matches(k)]

    def get(self, id_):
        data = self._data()
        if id_.value not in data:
            raise SecretNotFoundError()
        return Envelope(id_, data[id_.value].encode())

    def save(self, id_, value, metadata):
        if "boom" in id_.value:
            raise PluginError("the store said no")
        data = self._data()
        data[id_.value] = value.decode()
        with open(os.environ["FAILING_PLUGIN_DATA"], "w") as f:
            json.dump(data, f)

    def delete(self, id_):
        return False
"""


def test_a_failure_half_way_leaves_the_file_and_names_what_was_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = install_plugin_dist(
        tmp_path / "site",
        "failing-plugin",
        "1.0",
        "failing",
        "failing_mod",
        "FailingPlugin",
        FAILING_PLUGIN,
    )
    data = tmp_path / "failing.json"
    data.write_text("{}")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("FAILING_PLUGIN_DATA", str(data))
    env = tmp_path / ".env"
    text = "ONE=value-one\nTWO=value-two\nBOOM=value-three\nFOUR=value-four\n"
    env.write_text(text)
    result = docker_pass("import", str(env), "--prefix", "p", "--plugin", "failing")
    assert result.returncode == 1
    error = result.stderr.decode()
    assert "storing p/boom: the store said no" in error
    assert "the file is unchanged; already stored: p/one, p/two" in error
    assert env.read_text() == text
    assert not env.with_name(".env.docker-pass-backup").exists()
    assert sorted(json.loads(data.read_text())) == ["p/one", "p/two"]
    assert b"value-" not in result.stdout + result.stderr


COMPOSE = """\
# the app
services:
  web:
    image: busybox   # pinned elsewhere
    environment:
      API_KEY: "compose-key-1"     # quoted
      PLAIN: plain-value-2
      FROM_SHELL: ${FROM_SHELL}
      EMPTY:
      PORT: 8080
  worker:
    environment:
      - TOKEN=list-token-3
      - "QUOTED=list-quoted-4"
      - NOVALUE
"""
COMPOSE_EXPECTED = """\
# the app
services:
  web:
    image: busybox   # pinned elsewhere
    environment:
      API_KEY: "se://shop/api_key"     # quoted
      PLAIN: se://shop/plain
      FROM_SHELL: ${FROM_SHELL}
      EMPTY:
      PORT: se://shop/port
  worker:
    environment:
      - TOKEN=se://shop/token
      - "QUOTED=se://shop/quoted"
      - NOVALUE
"""


def test_a_compose_file_is_rewritten_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    compose = folder / "compose.yaml"
    compose.write_text(COMPOSE)
    result = docker_pass("import", "--format", "compose", str(compose))
    assert result.returncode == 0, result.stderr
    assert "kept          FROM_SHELL (line 8): Compose interpolates it ($)" in (
        result.stdout.decode()
    )
    assert compose.read_text() == COMPOSE_EXPECTED
    assert docker_pass("get", "--reveal", "shop/quoted").stdout == b"list-quoted-4"
    assert docker_pass("get", "--reveal", "shop/port").stdout == b"8080"
    for value in ("compose-key-1", "plain-value-2", "list-token-3", "list-quoted-4"):
        assert value.encode() not in result.stdout + result.stderr
