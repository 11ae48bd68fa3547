"""set, get, ls and rm driven as a person would: the real executable, as a subprocess.

Runs against the file store here; tests/cli/test_keychain_interop.py runs the same verbs against
a real gnome-keyring and through the docker client.
"""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import docker_pass

ID_ERROR = 'invalid identifier: "{}" must match ^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$ ({})\n'


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def ok(*args: str, input: bytes | None = None) -> bytes:
    result = docker_pass(*args, input=input)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return result.stdout


def fails(*args: str, input: bytes | None = None) -> bytes:
    result = docker_pass(*args, input=input)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert b"Traceback" not in result.stderr
    return result.stderr


def test_set_inline_then_get_masked_and_revealed() -> None:
    assert ok("set", "GH_TOKEN=123456789") == b""
    assert ok("get", "GH_TOKEN") == b"ID: GH_TOKEN\nValue: **********\n"
    assert ok("get", "--reveal", "GH_TOKEN") == b"123456789"


def test_set_splits_at_the_first_equals_sign() -> None:
    ok("set", "db/url=postgres://u:p@h/db?x=1")
    assert ok("get", "--reveal", "db/url") == b"postgres://u:p@h/db?x=1"


def test_set_from_stdin_keeps_bytes_exactly() -> None:
    value = bytes(range(256)) + b"\n"
    ok("set", "bin/blob", input=value)
    assert ok("get", "--reveal", "bin/blob") == value


def test_aliases_store_and_save() -> None:
    ok("store", "a=1")
    ok("save", "b=2")
    assert ok("ls") == b"a\nb\n"


def test_set_json_from_stdin_with_metadata_and_flag_precedence() -> None:
    doc = {"secret": "s3cr3t", "metadata": {"env": "prod", "owner": "bob"}}
    ok("set", "db/prod", "--metadata", "owner=alice", input=json.dumps(doc).encode())
    got = json.loads(ok("get", "--json", "--reveal", "db/prod"))
    assert got == {
        "id": "db/prod",
        "provider": "docker-pass",
        "metadata": {"env": "prod", "owner": "alice"},
        "version": ok("get", "--version", "db/prod").decode().strip(),
        "value": "s3cr3t",
    }


def test_json_without_a_secret_is_stored_as_is() -> None:
    raw = b'{"secret": "", "x": 1}'
    ok("set", "raw/json", input=raw)
    assert ok("get", "--reveal", "raw/json") == raw


def test_get_json_hides_value_unless_revealed() -> None:
    ok("set", "k=v", "--metadata", "a=b")
    got = json.loads(ok("get", "--json", "k"))
    version = ok("get", "--version", "k").decode().strip()
    assert got == {"id": "k", "provider": "docker-pass", "metadata": {"a": "b"}, "version": version}


def test_bad_metadata_pair() -> None:
    err = fails("set", "k=v", "--metadata", "novalue")
    assert err == b"Error: invalid metadata pair (expected key=value): novalue\n"


def test_overwrite_replaces_with_and_without_force() -> None:
    ok("set", "k=one")
    ok("set", "k=two")
    assert ok("get", "--reveal", "k") == b"two"
    ok("set", "--force", "k=three")
    assert ok("get", "--reveal", "k") == b"three"
    assert ok("ls") == b"k\n"


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("/lead", "an ID cannot start with /"),
        ("trail/", "an ID cannot end with /"),
        ("a//b", "component 2 is empty"),
        ("sp ace", '" " at position 3 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("h#sh", '"#" at position 2 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("café", '"é" at position 4 is not allowed (use A-Z a-z 0-9 . _ - :)'),
    ],
)
def test_invalid_ids_everywhere(bad: str, rule: str) -> None:
    expected = ("Error: " + ID_ERROR.format(bad, rule)).encode()
    assert fails("set", f"{bad}=v") == expected
    assert fails("get", bad) == expected
    assert fails("rm", bad) == expected


def test_get_missing() -> None:
    assert fails("get", "nope") == b"Error: secret not found: nope\n"


def test_ls_sorted_filtered_long_and_json() -> None:
    for raw in ("docker/auth/hub/bob", "docker/auth/hub/alice", "docker/db/prod", "zed"):
        ok("set", f"{raw}=v", "--metadata", "team=core")
    assert ok("ls") == b"docker/auth/hub/alice\ndocker/auth/hub/bob\ndocker/db/prod\nzed\n"
    assert ok("list", "docker/auth/**") == b"docker/auth/hub/alice\ndocker/auth/hub/bob\n"
    long_lines = ok("ls", "--long", "*").decode().splitlines()
    assert long_lines[0].split() == ["ID", "PROVIDER", "METADATA"]
    assert long_lines[1].split() == ["zed", "docker-pass", "team=core"]
    as_json = json.loads(ok("ls", "--json", "docker/db/*"))
    version = ok("get", "--version", "docker/db/prod").decode().strip()
    assert as_json == [
        {
            "id": "docker/db/prod",
            "provider": "docker-pass",
            "metadata": {"team": "core"},
            "version": version,
        }
    ]


def test_ls_invalid_pattern() -> None:
    err = fails("ls", "foo/*a")
    assert err == b'Error: invalid pattern "foo/*a": a component mixes * with other characters\n'


def test_internal_realm_is_hidden_unless_asked() -> None:
    ok("set", "docker/secrets-engine/1password/token=t")
    ok("set", "app/key=k")
    assert ok("ls") == b"app/key\n"
    assert ok("ls", "--all-realms") == b"app/key\ndocker/secrets-engine/1password/token\n"
    ok("rm", "--all", "-y")
    assert ok("ls", "--all-realms") == b"docker/secrets-engine/1password/token\n"


def test_rm_prints_sorted_and_missing_is_not_an_error() -> None:
    ok("set", "b=1")
    ok("set", "a=1")
    result = docker_pass("rm", "b", "missing", "a")
    assert result.returncode == 0
    assert result.stdout == b"RM: a\nRM: b\n"
    assert b"missing: secret not found, nothing to remove" in result.stderr
    assert ok("ls") == b""


def test_rm_aliases_and_all() -> None:
    for name in ("x", "y", "z"):
        ok("set", f"{name}=1")
    assert ok("delete", "x") == b"RM: x\n"
    assert ok("erase", "y") == b"RM: y\n"
    assert ok("remove", "z") == b"RM: z\n"
    ok("set", "p=1")
    ok("set", "q=1")
    assert ok("rm", "--all") == b"RM: p\nRM: q\n"


@pytest.mark.parametrize("args", [(), ("--all", "x")])
def test_rm_needs_names_or_all_but_not_both(args: tuple[str, ...]) -> None:
    err = fails("rm", *args)
    assert err == b"Error: either provide a secret name or use --all to remove all secrets\n"


def test_values_never_reach_stderr_or_listing() -> None:
    ok("set", "k=topsecret-value")
    for args in (("ls", "--long"), ("ls", "--json"), ("get", "k"), ("get", "--json", "k")):
        result = docker_pass(*args)
        assert b"topsecret-value" not in result.stdout + result.stderr
