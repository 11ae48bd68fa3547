"""An ID that breaks the grammar is explained as an ID, on every CLI path that takes one.

The rules of an ID and of a pattern share most words; an ID's error must still never talk
about patterns ("a pattern cannot end with /" for ``set 'a/'``).
"""

from __future__ import annotations

import pytest

from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


BAD_IDS = [
    ("a/", "an ID cannot end with /"),
    ("/a", "an ID cannot start with /"),
    ("a//b", "component 2 is empty"),
    ("a b", '" " at position 2 is not allowed (use A-Z a-z 0-9 . _ - :)'),
]


def error_of(*args: str) -> str:
    result = docker_pass(*args, input=b"v")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert b"Traceback" not in result.stderr
    return result.stderr.decode()


@pytest.mark.parametrize(("bad", "rule"), BAD_IDS)
def test_set_get_rm_say_the_ids_rule(bad: str, rule: str) -> None:
    for args in (("set", f"{bad}=v"), ("get", bad), ("rm", bad)):
        err = error_of(*args)
        assert f"({rule})" in err, (args, err)
        assert "pattern" not in err, (args, err)


@pytest.mark.parametrize(
    ("bad", "rule"), [b for b in BAD_IDS if not b[0].endswith("/")]
)  # a NEW ending in / names a realm: "mv k a/" moves k into a/
def test_mv_to_a_bad_id_says_the_ids_rule(bad: str, rule: str) -> None:
    assert docker_pass("set", "k=v").returncode == 0
    err = error_of("mv", "k", bad)
    assert rule in err, err
    assert "pattern" not in err, err
