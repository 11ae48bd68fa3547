"""``set`` on every real store, embedded and through the daemon, with the same assertions: a
plain ``set`` is a blind write whatever changed meanwhile; ``--if-version`` writes only over the
version named (``absent``: only a new secret), and a refusal leaves the stored value as it was.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.errors import VersionConflictError
from docker_pass.core.ids import ID
from docker_pass.core.remote.front import open_engine
from docker_pass.core.versions import NO_SECRET
from tests.support.helpers import docker_pass
from tests.support.places import MODES, PLACES, mode, place
from tests.support.vault_server import bao_server

if TYPE_CHECKING:
    from tests.support.places import Mode, Place

__all__ = ["bao_server", "mode", "place"]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("place", PLACES, indirect=True),
    pytest.mark.parametrize("mode", MODES, indirect=True),
]

SAVE = "/dockerpass.v1.SecretsService/SaveSecret"


def set_(place: Place, *args: str) -> tuple[int, str]:
    done = docker_pass("set", "--plugin", place.plugin, *args)
    return done.returncode, done.stderr.decode()


def version_of(place: Place, id_: str) -> str:
    got = docker_pass("get", "--version", "--plugin", place.plugin, id_)
    assert got.returncode == 0, got.stderr
    return got.stdout.decode().strip()


def test_set_overwrites_an_outside_change_every_time(place: Place, mode: Mode) -> None:
    assert set_(place, "app/token=mine-1") == (0, "")
    for round_ in (2, 4):
        mode.read_through_daemon("app/token", place.plugin)  # a front that read it first
        place.write_outside("app/token", f"other-{round_}")
        assert place.read("app/token") == f"other-{round_}".encode()
        code, err = set_(place, f"app/token=mine-{round_ + 1}")
        assert (code, err) == (0, "")
        assert place.read("app/token") == f"mine-{round_ + 1}".encode()
    assert mode.requests(SAVE) == (3 if mode.daemon else 0)


def test_if_version_refuses_a_stale_version_and_leaves_the_value(place: Place, mode: Mode) -> None:
    assert set_(place, "app/token=mine-1") == (0, "")
    seen = version_of(place, "app/token")
    place.write_outside("app/token", "other-2")
    now = version_of(place, "app/token")
    assert now != seen
    code, err = set_(place, "--if-version", seen, "app/token=mine-3")
    assert code == 1
    assert err.startswith(f"Error: app/token changed since version {seen}: it is now version {now}")
    assert "nothing was written" in err
    assert "mine-3" not in err
    assert "other-2" not in err
    assert place.read("app/token") == b"other-2"
    # The version read now is the one that writes.
    assert set_(place, "--if-version", now, "app/token=mine-4") == (0, "")
    assert place.read("app/token") == b"mine-4"
    assert mode.requests(SAVE) == (3 if mode.daemon else 0)


@pytest.mark.parametrize("spelling", ["absent", "none", "ABSENT"])
def test_if_version_absent_creates_only(place: Place, mode: Mode, spelling: str) -> None:
    assert set_(place, "--if-version", spelling, "app/new=first") == (0, "")
    code, err = set_(place, "--if-version", spelling, "app/new=second")
    assert code == 1
    assert re.match(r"Error: app/new exists already: it is version \S+", err), err
    assert place.read("app/new") == b"first"


def test_versions_in_get_and_ls_json(place: Place, mode: Mode) -> None:
    assert set_(place, "app/one=1") == (0, "")
    got = json.loads(docker_pass("get", "--json", "--plugin", place.plugin, "app/one").stdout)
    assert got["version"] == version_of(place, "app/one") != ""
    assert "value" not in got
    listed = json.loads(docker_pass("ls", "--json", "--plugin", place.plugin, "app/**").stdout)
    assert [entry["id"] for entry in listed] == ["app/one"]
    assert listed[0]["version"] in ("", got["version"])  # where the listing knows it cheaply


def test_a_conflict_is_a_version_conflict_error_with_its_fields(place: Place, mode: Mode) -> None:
    """The same from the engine in this process and from the daemon's client."""
    assert set_(place, "app/token=mine-1") == (0, "")
    front = mode.engine.client() if mode.engine is not None else open_engine(no_daemon=True)
    with front as client:
        seen = client.get(ID("app/token"), plugin=place.plugin)
        assert seen.version == version_of(place, "app/token")
        place.write_outside("app/token", "other-2")
        with pytest.raises(VersionConflictError) as caught:
            client.save(
                ID("app/token"), b"mine-3", {}, plugin=place.plugin, expected_version=seen.version
            )
        conflict = caught.value
        assert (conflict.id, conflict.provider) == ("app/token", place.plugin)
        assert conflict.expected == seen.version
        assert conflict.found == version_of(place, "app/token") != seen.version
        assert conflict.changed_at is None or conflict.changed_at > 0
        assert "other-2" not in str(conflict)
        assert "mine-3" not in str(conflict)
        with pytest.raises(VersionConflictError) as taken:
            client.save(ID("app/token"), b"x", {}, plugin=place.plugin, expected_version=NO_SECRET)
        assert taken.value.expected == NO_SECRET
        saved = client.save(
            ID("app/token"), b"mine-4", {}, plugin=place.plugin, expected_version=conflict.found
        )
        assert saved.version == version_of(place, "app/token")
        # A removal that expects a stale version keeps the secret, and says why.
        removal = client.remove(
            [ID("app/token")],
            plugin=place.plugin,
            expected_versions={ID("app/token"): seen.version},
        )
        ((_, outcome),) = removal.outcomes
        assert outcome not in ("removed", "missing")
        assert place.read("app/token") == b"mine-4"
