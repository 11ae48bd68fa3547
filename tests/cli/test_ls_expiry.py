"""``ls --long`` and ``ls --json`` show a secret's expiry (its ``expires`` metadata), through the
real executable; listings without expiries keep their columns."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def ok(*args: str) -> str:
    result = docker_pass(*args)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return result.stdout.decode()


def soon() -> str:
    # The executable reads the real clock, as a person's ls does; five days ahead is "soon"
    # on either side of a midnight the test might straddle.
    return (date.today() + timedelta(days=5)).isoformat()


def seed() -> None:
    ok("set", "app/old=v", "--metadata", "expires=2026-01-31", "--metadata", "team=core")
    ok("set", "app/soon=v", "--metadata", f"expires={soon()}")
    ok("set", "app/later=v", "--metadata", "expires=2999-01-01")
    ok("set", "app/odd=v", "--metadata", "expires=next tuesday")
    ok("set", "app/plain=v", "--metadata", "team=core")


def test_long_listing_has_an_expires_column_with_marks() -> None:
    seed()
    lines = ok("ls", "--long", "app/*").splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "EXPIRES", "METADATA"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "2026-01-31 (expired)" in rows["app/old"]
    assert rows["app/old"].rstrip().endswith("expires=2026-01-31, team=core")
    assert f"{soon()} (expires in" in rows["app/soon"]
    assert "2999-01-01  " in rows["app/later"]
    assert "(expire" not in rows["app/later"]
    assert "next tuesday (unparsable)" in rows["app/odd"]
    # Without an expiry the column is blank, and the metadata stays in its column.
    column = lines[0].index("METADATA")
    assert rows["app/plain"][column:] == "team=core"
    assert rows["app/old"][column:].startswith("expires=")


def test_long_listing_without_expiries_keeps_its_columns() -> None:
    ok("set", "app/plain=v", "--metadata", "team=core")
    lines = ok("ls", "--long").splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "METADATA"]
    assert lines[1].split() == ["app/plain", "docker-pass", "team=core"]


def test_json_listing_has_expiry_fields_where_set() -> None:
    seed()
    doc = {entry["id"]: entry for entry in json.loads(ok("ls", "--json", "app/*"))}
    assert doc["app/old"] == {
        "id": "app/old",
        "provider": "docker-pass",
        "metadata": {"expires": "2026-01-31", "team": "core"},
        "version": ok("get", "--version", "app/old").strip(),
        "expires": "2026-01-31",
        "expiry": "expired",
        "expired": True,
    }
    assert (doc["app/soon"]["expiry"], doc["app/soon"]["expired"]) == ("soon", False)
    assert (doc["app/later"]["expiry"], doc["app/later"]["expired"]) == ("ok", False)
    assert (doc["app/odd"]["expiry"], doc["app/odd"]["expired"]) == ("unparsable", False)
    assert doc["app/plain"] == {
        "id": "app/plain",
        "provider": "docker-pass",
        "metadata": {"team": "core"},
        "version": ok("get", "--version", "app/plain").strip(),
    }


def test_plain_listing_is_unchanged() -> None:
    seed()
    assert ok("ls", "app/*").splitlines() == [
        "app/later",
        "app/odd",
        "app/old",
        "app/plain",
        "app/soon",
    ]
