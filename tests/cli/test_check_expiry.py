"""`check` marks references to expired and soon-expiring secrets; `--fail-on-expiry` (with
`--expiry-days N`) makes them fail it, and without the flag they never change the exit."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

VALUES = {"db/old": "old-value-5b1e", "db/soon": "soon-value-77c3", "db/later": "later-v-0d9a"}
ENV = "OLD=se://db/old\nSOON=se://db/soon\nLATER=se://db/later\nPLAIN=se://db/plain\n"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    expires = {"db/old": day(-3), "db/soon": day(5), "db/later": day(40)}
    for id_, value in VALUES.items():
        done = docker_pass(
            "set", id_, "--metadata", f"expires={expires[id_]}", input=value.encode()
        )
        assert done.returncode == 0, done.stderr.decode()
    assert docker_pass("set", "db/plain", input=b"plain-value-9").returncode == 0
    path = tmp_path / "app.env"
    path.write_text(ENV)
    return path


def rows_of(out: bytes) -> dict[str, str]:
    """Each table row (after the header) by its VARIABLE cell."""
    lines = out.decode().splitlines()
    return {line.split()[1]: line for line in lines[1:]}


def assert_no_values(*outputs: bytes) -> None:
    for output in outputs:
        for value in VALUES.values():
            assert value.encode() not in output


def test_rows_are_marked_and_exit_is_unchanged(env_file: Path) -> None:
    done = docker_pass("check", str(env_file))
    assert done.returncode == 0, done.stderr.decode()
    header = done.stdout.decode().splitlines()[0].split()
    assert header == ["FILE", "SERVICE", "VARIABLE", "REFERENCE", "STATUS", "EXPIRY", "DETAIL"]
    rows = rows_of(done.stdout)
    assert "expired 3 days ago" in rows["OLD"]
    assert "expires in 5 days" in rows["SOON"]
    assert "expire" not in rows["LATER"]
    assert "expire" not in rows["PLAIN"]
    assert_no_values(done.stdout, done.stderr)


def test_fail_on_expiry_names_each(env_file: Path) -> None:
    done = docker_pass("check", "--fail-on-expiry", str(env_file))
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "Error: db/old expired 3 days ago",
        "Error: db/soon expires in 5 days",
    ]
    only_expired = docker_pass("check", "--fail-on-expiry", "--expiry-days", "0", str(env_file))
    assert only_expired.returncode == 1
    assert only_expired.stderr.decode().splitlines() == ["Error: db/old expired 3 days ago"]
    wide = docker_pass("check", "--fail-on-expiry", "--expiry-days", "60", str(env_file))
    assert wide.returncode == 1
    assert len(wide.stderr.decode().splitlines()) == 3
    assert "expires in 40 days" in rows_of(wide.stdout)["LATER"]
    assert_no_values(done.stdout, done.stderr, wide.stdout, wide.stderr)


def test_fail_on_expiry_passes_when_nothing_expires(tmp_path: Path, env_file: Path) -> None:
    fine = tmp_path / "fine.env"
    fine.write_text("LATER=se://db/later\nPLAIN=se://db/plain\n")
    done = docker_pass("check", "--fail-on-expiry", str(fine))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    header = done.stdout.decode().splitlines()[0].split()
    assert "EXPIRY" not in header


def test_json_expiry_field(env_file: Path) -> None:
    done = docker_pass("check", "--json", str(env_file))
    assert done.returncode == 0
    rows = {row["variable"]: row for row in json.loads(done.stdout)}
    assert rows["OLD"]["expiry"] == {
        "expires": day(-3),
        "state": "expired",
        "days": -3,
        "mark": "expired 3 days ago",
    }
    assert rows["SOON"]["expiry"]["state"] == "soon"
    assert rows["LATER"]["expiry"]["state"] == "ok"
    assert rows["LATER"]["expiry"]["mark"] is None
    assert "expiry" not in rows["PLAIN"]
    assert_no_values(done.stdout, done.stderr)


@pytest.mark.parametrize("bad", ["-1", "soon", "1.5", ""])
def test_bad_expiry_days_is_a_usage_error(env_file: Path, bad: str) -> None:
    done = docker_pass("check", "--expiry-days", bad, str(env_file))
    assert done.returncode != 0
    assert b"Traceback" not in done.stderr
    assert "not a number of days" in done.stderr.decode()


def test_uses_marks_expiry(env_file: Path) -> None:
    done = docker_pass(
        "uses", "db/**", "--file", str(env_file), env={"DOCKER_HOST": "unix:///nonexistent"}
    )
    assert done.returncode == 0
    heads = [line for line in done.stdout.decode().splitlines() if not line.startswith(" ")]
    assert heads == [
        "db/later",
        "db/old  (expired 3 days ago)",
        "db/plain",
        "db/soon  (expires in 5 days)",
    ]
    doc = json.loads(
        docker_pass(
            "uses", "--json", "--file", str(env_file), env={"DOCKER_HOST": "unix:///nonexistent"}
        ).stdout
    )
    assert doc["expiry"]["db/old"]["mark"] == "expired 3 days ago"
    assert set(doc["expiry"]) == {"db/old", "db/soon", "db/later"}
