"""The UI's remembered place on disk: round trip, one place per store, and hostile files.

A file that cannot be used is ignored with a note and never blocks, crashes or is followed
through a link; whatever is wrong in a usable file is dropped field by field.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.tui.model.ui_state import (
    MAX_PLACES,
    STATE_LIMIT,
    Cursor,
    UiState,
    load_ui_state,
    place_key,
    save_ui_state,
    state_path,
)

if TYPE_CHECKING:
    from pathlib import Path

PLACE = UiState(
    filter="docker/au",
    mode="prefix",
    open_realms=("docker", "docker/auth", "myapp/prod"),
    sort="provider",
    cursor=Cursor("secret", "docker/auth/hub/alice", "docker-pass"),
    focus="filter",
)


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_it_lives_in_the_xdg_state_dir(isolated_home: Path) -> None:
    assert state_path() == isolated_home / ".local" / "state" / "docker-pass" / "ui-state.json"


def test_round_trip_private_and_atomic() -> None:
    assert save_ui_state(PLACE) == ""
    state, note = load_ui_state()
    assert note == ""
    assert state == PLACE
    path = state_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["ui-state.json"]  # no temp file left


def test_nothing_remembered_is_no_note() -> None:
    assert load_ui_state() == (None, "")


def test_each_store_has_its_own_place(monkeypatch: pytest.MonkeyPatch) -> None:
    save_ui_state(PLACE)
    file_place = place_key()
    monkeypatch.setenv("DOCKER_PASS_STORE", "secret-service")
    assert place_key() != file_place
    assert load_ui_state() == (None, "")
    other = UiState(filter="aws/", cursor=Cursor("realm", "aws"))
    save_ui_state(other)
    assert load_ui_state()[0] == other
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    assert load_ui_state()[0] == PLACE  # the other store's place stayed


def test_the_oldest_places_go(tmp_path: Path) -> None:
    path = tmp_path / "ui-state.json"
    for n in range(MAX_PLACES + 3):
        save_ui_state(UiState(filter=f"p{n}/"), path, place=f"place-{n}")
    places = json.loads(path.read_text())["places"]
    assert len(places) == MAX_PLACES
    assert "place-0" not in places
    assert f"place-{MAX_PLACES + 2}" in places


def test_no_value_reaches_the_file() -> None:
    """What is kept is IDs, realm paths, a plugin name, the filter: nothing else is written."""
    save_ui_state(PLACE)
    doc = json.loads(state_path().read_text())
    (place,) = doc["places"].values()
    assert set(place) == {"filter", "mode", "open", "sort", "focus", "saved", "cursor"}
    assert set(place["cursor"]) == {"kind", "id", "provider"}


def write(text: str | bytes) -> Path:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b"[1, 2, 3]", "not a format"),
        (b'{"version": 99, "places": {}}', "not a format"),
        (b'{"version": 1, "places": []}', "holds no places"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # deep nesting: no RecursionError
    ],
)
def test_garbage_is_ignored_with_a_note(content: bytes, says: str) -> None:
    write(content)
    state, note = load_ui_state()
    assert state is None
    assert says in note
    assert save_ui_state(PLACE) == ""  # and replaced on the next quit
    assert load_ui_state()[0] == PLACE


def test_wrong_types_drop_only_the_field() -> None:
    place = {
        "filter": ["not", "a", "string"],
        "mode": 3,
        "open": ["docker", 7, "bad//realm", "a/*", None, "myapp"],
        "sort": {"x": 1},
        "focus": "elsewhere",
        "saved": "yesterday",
        "cursor": {"kind": "secret", "id": "ok/id", "provider": 5},
    }
    write(json.dumps({"version": 1, "places": {place_key(): place}}))
    state, note = load_ui_state()
    assert note == ""
    assert state == UiState(open_realms=("docker", "myapp"))


@pytest.mark.parametrize(
    "cursor",
    [
        {"kind": "value", "id": "a"},
        {"kind": "secret", "id": "a/"},
        {"kind": "secret", "id": "a\nb"},
        {"kind": "realm", "id": 12},
        {"kind": "secret", "id": "a", "provider": "x\x1b[31m"},
        "docker/auth",
    ],
)
def test_a_bad_cursor_is_dropped(cursor: object) -> None:
    place = {"filter": "docker/", "cursor": cursor}
    write(json.dumps({"version": 1, "places": {place_key(): place}}))
    state, _ = load_ui_state()
    assert state == UiState(filter="docker/")


def test_a_filter_with_control_characters_is_dropped() -> None:
    place = {"filter": "docker/\x1b]52;c;AAAA\x07", "sort": "updated"}
    write(json.dumps({"version": 1, "places": {place_key(): place}}))
    assert load_ui_state()[0] == UiState(sort="updated")


def test_a_huge_file_is_not_read() -> None:
    write(b" " * (STATE_LIMIT + 1))
    state, note = load_ui_state()
    assert state is None
    assert "larger than" in note


def test_a_fifo_never_blocks() -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    result: list[tuple[object, str]] = []
    reader = threading.Thread(target=lambda: result.append(load_ui_state()), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    ((state, note),) = result
    assert state is None
    assert "FIFO" in note
    # The next quit does not write into the FIFO either: the note says why.
    assert "not kept" in save_ui_state(PLACE) or stat.S_ISREG(os.lstat(path).st_mode)


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"version": 1, "places": {place_key(): {"filter": "x/"}}}))
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    state, note = load_ui_state()
    assert state is None
    assert "link" in note
    save_ui_state(PLACE)  # replaces the link itself, never writes through it
    assert json.loads(target.read_text())["places"][place_key()] == {"filter": "x/"}


def test_a_link_to_dev_zero_is_refused() -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")
    state, note = load_ui_state()
    assert state is None
    assert note


def test_an_unreadable_file_is_ignored() -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a 0000 file anyway")
    write(json.dumps({"version": 1, "places": {}})).chmod(0)
    state, note = load_ui_state()
    assert state is None
    assert "Permission denied" in note


def test_a_directory_there_is_ignored_and_not_fatal_on_save() -> None:
    state_path().mkdir(parents=True)
    state, note = load_ui_state()
    assert state is None
    assert "directory" in note
    assert "not kept" in save_ui_state(PLACE)


def test_ancestors_nearest_first() -> None:
    assert Cursor("secret", "a/b/c/d").ancestors() == ["a/b/c", "a/b", "a"]
    assert Cursor("realm", "a/b").ancestors() == ["a"]
    assert Cursor("secret", "top").ancestors() == []


def test_ui_help_says_where_the_place_is_kept_and_how_to_start_fresh() -> None:
    from tests.support.helpers import docker_pass

    out = docker_pass("ui", "--help").stdout.decode()
    assert "--fresh" in out
    assert "ui-state.json" in out
