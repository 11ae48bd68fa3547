"""The rollout question after a save of a secret that containers use, over a stand-in Docker
door (:mod:`tests.tui.usage_fakes`): asked with the plan, carried out on yes, nothing on no,
not offered without the proxy, and a failure said as what was left as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.tui.messages import RolloutFinished, RolloutPlanned, SecretSaved
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.widgets.status_line import StatusLine
from tests.tui.conftest import app_of, make_app, run, select, settle, type_text, until
from tests.tui.usage_fakes import DB, FakeDocker

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

ALICE = "docker/auth/hub/alice"
NO_PROXY = (
    "a rollout needs the engine daemon's Docker proxy, and none is running: start it "
    "with 'docker pass engine run' (or 'docker pass engine install-service')"
)


def status_text(pilot: Pilot[None]) -> str:
    return pilot.app.screen.query_one(StatusLine).message.text


async def save_new_value(pilot: Pilot[None], id_: str) -> None:
    """Edit ``id_`` with a new value and save it."""
    await until(pilot, lambda: app_of(pilot).usage.gathered is not None, "the first gathering")
    await select(pilot, id_)
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(pilot.app.screen, EditorScreen)
    await type_text(pilot, "new-not-a-real-password", "#editor-value")
    await pilot.press("ctrl+s")
    await settle(pilot)


async def question_asked(pilot: Pilot[None]) -> ConfirmScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen


def test_a_save_of_a_used_secret_asks_and_yes_rolls_out() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await save_new_value(pilot, DB)
        assert [m.info.id.value for m in seen.of(SecretSaved)] == [DB]
        screen = await question_asked(pilot)
        # Three places are recreated: the Compose service shop/web and two plain containers
        # (the service without a container and the env file are not).
        assert str(screen.query_one("#confirm-title").render()) == (
            "3 containers use it: roll out?"
        )
        body = str(screen.query_one("#confirm-body").render())
        assert "recreate Compose project shop: web (in /srv/shop)" in body
        assert "recreate container billing-worker" in body
        assert "new-not-a-real-password" not in body
        await pilot.press("y")
        await until(pilot, lambda: bool(seen.of(RolloutFinished)), "the rollout's end")
        await settle(pilot)
        assert len(docker.carried) == 1
        assert docker.carried[0].ids == [DB]
        text = status_text(pilot)
        assert text.startswith("Rolled out: recreated Compose project shop (web)"), text
        assert "container billing-worker" in text

    run(make_app(docker=docker), scenario)


def test_no_leaves_everything() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], _seen: Recorder) -> None:
        await save_new_value(pilot, DB)
        await question_asked(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert docker.carried == []
        assert status_text(pilot) == "Nothing rolled out."

    run(make_app(docker=docker), scenario)


def test_an_unused_secret_is_saved_without_a_question() -> None:
    docker = FakeDocker()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await save_new_value(pilot, ALICE)
        await settle(pilot)
        assert seen.of(SecretSaved)
        assert not seen.of(RolloutPlanned)
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert status_text(pilot).startswith(f"Saved {ALICE}")

    run(make_app(docker=docker), scenario)


def test_without_the_proxy_it_says_so_instead_of_asking() -> None:
    docker = FakeDocker(proxy=NO_PROXY)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await save_new_value(pilot, DB)
        await until(pilot, lambda: bool(seen.of(RolloutPlanned)), "the plan")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert status_text(pilot) == f"3 containers use it, but {NO_PROXY}"
        assert docker.carried == []

    run(make_app(docker=docker), scenario)


def test_a_failure_says_what_was_left_as_it_was() -> None:
    docker = FakeDocker(failed=["billing-worker"])

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await save_new_value(pilot, DB)
        await question_asked(pilot)
        await pilot.press("y")
        await until(pilot, lambda: bool(seen.of(RolloutFinished)), "the rollout's end")
        await settle(pilot)
        line = pilot.app.screen.query_one(StatusLine)
        assert line.message.level == "error"
        text = line.message.text
        assert text.startswith("Rollout: 1 left as they were (failed billing-worker:"), text
        assert "the old one is running as before" in text
        assert "recreated Compose project shop (web), container batch-7" in text

    run(make_app(docker=docker), scenario)


def test_without_an_engine_a_save_asks_nothing() -> None:
    docker = FakeDocker(docker="cannot reach the Docker engine at unix:///nowhere: gone")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await save_new_value(pilot, DB)
        await settle(pilot)
        assert seen.of(SecretSaved)
        assert not seen.of(RolloutPlanned)
        assert not isinstance(pilot.app.screen, ConfirmScreen)

    run(make_app(docker=docker), scenario)
