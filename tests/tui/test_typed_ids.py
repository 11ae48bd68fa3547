"""What a typed ID probably meant, and that the ID fields say it in the ID's own words.

``doubled_realm`` alone (pure), then every field where a doubled realm can be typed: New's ID,
the editor's ID when it renames, the move dialog; and the move dialog's ID errors, which must
never talk about patterns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, Static

from docker_pass.core.grammar import typed_id_problem
from docker_pass.tui.model.typed_ids import doubled_realm, doubled_realm_notice
from docker_pass.tui.screens.editor_words import id_hint, rename_hint
from docker_pass.tui.screens.move import MoveScreen
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import make_app, run, select, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

SEED: dict[str, tuple[bytes, dict[str, str]]] = {
    "team/db/password": (b"pw", {}),
    "team/team/legacy": (b"old", {}),
}


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("docker/docker/auth/hub/alice", ("docker/", "docker/auth/hub/alice")),
        ("docker/auth/docker/auth/hub/alice", ("docker/auth/", "docker/auth/hub/alice")),
        ("docker/auth/hub/auth/hub/alice", ("auth/hub/", "docker/auth/hub/alice")),
        ("a/b/b/c", ("b/", "a/b/c")),
        ("a/a/a/x", ("a/", "a/a/x")),
        ("x/y/x/y/z", ("x/y/", "x/y/z")),
    ],
)
def test_a_doubled_realm_is_found_with_the_id_meant(typed: str, found: tuple[str, str]) -> None:
    assert doubled_realm(typed) == found


@pytest.mark.parametrize(
    "typed",
    [
        "docker/auth/hub/alice",
        "db/postgres/postgres",  # a secret named like its realm is ordinary
        "docker/docker",
        "a/b/a/b",  # the repeat reaches the secret's own name
        "single",
        "a/b/c/a/b",
    ],
)
def test_ordinary_ids_have_no_doubled_realm(typed: str) -> None:
    assert doubled_realm(typed) is None
    assert doubled_realm_notice(typed) == ""


def test_the_notice_says_where_and_what_was_meant() -> None:
    assert doubled_realm_notice("docker/docker/auth/hub/alice") == (
        "⚠ starts with docker/ twice — did you mean docker/auth/hub/alice?"
    )
    assert doubled_realm_notice("myapp/prod/prod/db") == (
        "⚠ has prod/ twice — did you mean myapp/prod/db?"
    )


def test_new_never_calls_a_doubled_id_simply_valid() -> None:
    text, wrong = id_hint("docker/docker/auth/hub/alice", False, lambda: False)
    assert wrong
    assert "✓" not in text
    assert "did you mean docker/auth/hub/alice?" in text


def test_a_rename_to_a_doubled_id_is_noticed_unless_it_was_so_already() -> None:
    text, wrong = rename_hint("team/db/password", "team/team/db/password", "docker-pass", False, [])
    assert wrong
    assert text == "⚠ starts with team/ twice — did you mean team/db/password?"
    text, _ = rename_hint("team/team/legacy", "team/team/legacy2", "docker-pass", False, [])
    assert text.startswith("saving moves team/team/legacy")


@pytest.mark.parametrize("typed", ["a/", "/a", "a//b", "a b", "a/*", "**", "a/b*", "a/**/"])
def test_an_id_field_never_explains_the_pattern_grammar(typed: str) -> None:
    problem = typed_id_problem(typed)
    assert problem
    assert "pattern" not in problem
    assert "whole * / **" not in problem


def hint_of(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#move-hint", Static).render())


async def move_to(pilot: Pilot[None], new: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, MoveScreen)
    screen.query_one("#move-new", Input).value = new
    await settle(pilot)


def test_the_move_dialog_notices_a_doubled_realm_and_says_id_errors_as_an_id() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "team/db/password")
        await pilot.press("m")
        await settle(pilot)
        await move_to(pilot, "team/team/db/pw")
        assert hint_of(pilot) == "⚠ starts with team/ twice — did you mean team/db/pw?"
        await move_to(pilot, "team/db/")
        # A trailing / here names a realm to move into; a // is no ID, said as an ID.
        await move_to(pilot, "team//pw")
        assert hint_of(pilot) == "✗ component 2 is empty"
        await move_to(pilot, "team/p w")
        assert hint_of(pilot) == '✗ " " at position 7 is not allowed (use A-Z a-z 0-9 . _ - :)'
        await move_to(pilot, "team/db/pw")
        assert hint_of(pilot).startswith("✓ moves to docker-pass:team/db/pw")

    run(make_app({"docker-pass": keychain_class(SEED)}), scenario)


def test_the_editor_notices_a_rename_to_a_doubled_realm() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "team/db/password")
        await pilot.press("e")
        await settle(pilot)
        field = pilot.app.screen.query_one("#editor-id", Input)
        field.focus()
        await settle(pilot)
        field.cursor_position = 0
        field.insert_text_at_cursor("team/")
        await settle(pilot)
        assert field.value == "team/team/db/password"
        hint = str(pilot.app.screen.query_one("#editor-id-hint", Static).render())
        assert hint == "⚠ starts with team/ twice — did you mean team/db/password?"

    run(make_app({"docker-pass": keychain_class(SEED)}), scenario)
