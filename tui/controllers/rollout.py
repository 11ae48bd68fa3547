"""The rollout question after a save: "3 containers use it: roll out?".

After the editor saves a secret, a worker gathers its users afresh and plans a rollout
(:func:`~docker_pass.core.docker.rollout.plan_rollout`, as ``docker pass rollout`` does).
Nothing uses it: nothing is said.  Something does: the person is asked, with the plan's lines;
without the engine daemon's Docker proxy the status line says so instead of asking.  Yes
carries the plan out in a worker, each step on the status line, and the result there too
(what failed was left as it was, and says so); no or Escape leaves everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from docker_pass.core.outside import clean_outside
from docker_pass.tui.messages import RolloutFinished, RolloutPlanned, RolloutProgressed
from docker_pass.tui.text import plural
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.docker.rollout import RolloutOutcome, RolloutPlan
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.controllers.usage import UsageController

#: The most plan lines the question shows (the rest are counted).
SHOWN_LINES = 8


def recreated_count(plan: RolloutPlan) -> int:
    """How many places the plan recreates: each Compose service, each plain container."""
    return sum(len(p.services) for p in plan.projects) + len(plan.containers)


def question(plan: RolloutPlan) -> str:
    """``3 containers use it: roll out?``"""
    count = recreated_count(plan)
    verb = "uses" if count == 1 else "use"
    return f"{plural(count, 'container')} {verb} it: roll out?"


class RolloutController:
    """Offers and runs rollouts (see the module); ``ask`` shows a yes/no question."""

    def __init__(
        self,
        usage: UsageController,
        runner: Runner,
        status: StatusSink,
        ask: Callable[[str, Text, str, Callable[[bool | None], None]], None],
    ) -> None:
        self._usage = usage
        self._runner = runner
        self._status = status
        self._ask = ask
        #: The plan asked about now (``None`` when no question is open).
        self.asking: RolloutPlan | None = None

    def saved(self, info: SecretInfo) -> None:
        """The editor saved ``info``: plan a rollout of its users, in a worker."""
        if self._usage.enabled and not info.deleted:
            id_ = info.id.value
            self._runner.run_in_thread(WorkerGroup.ROLLOUT, lambda: self._plan(id_))

    def planned(self, message: RolloutPlanned) -> None:
        """The plan is ready: ask (or say why not)."""
        plan = message.plan
        if plan is None:
            if message.reason:
                self._status.set_status(message.reason, "warning")
            return
        if not (plan.projects or plan.containers):
            refused = "; ".join(clean_outside(r.line(), 300) for r in plan.refused)
            self._status.set_status(f"Nothing can be rolled out: {refused}", "warning")
            return
        self.asking = plan
        ids = ", ".join(plan.ids)
        lines = plan.lines()
        body = Text(f"{ids} changed. A rollout recreates what uses it, so it gets the new value:")
        for line in lines[:SHOWN_LINES]:
            body.append(f"\n  {line}")
        if len(lines) > SHOWN_LINES:
            body.append(f"\n  +{len(lines) - SHOWN_LINES} more", style="dim")

        def answered(yes: bool | None) -> None:
            self.asking = None
            if yes:
                self.roll_out(plan)
            else:
                from docker_pass.core.docker.rollout import DECLINED

                self._status.set_status(DECLINED)

        self._ask(question(plan), body, "Roll out", answered)

    def roll_out(self, plan: RolloutPlan) -> None:
        """Carry ``plan`` out in a worker."""
        door = self._usage.door
        if door is None:
            return
        self._status.set_status(f"Rolling out {', '.join(plan.ids)}…", topic="rollout")

        def step(line: str) -> None:  # from the worker's thread
            self._runner.post_message(RolloutProgressed(line))

        def work() -> None:
            self._runner.post_message(RolloutFinished(door.carry_out(plan, step)))

        self._runner.run_in_thread(WorkerGroup.ROLLOUT, work)

    def progressed(self, message: RolloutProgressed) -> None:
        """A step of the rollout under way."""
        self._status.set_status(clean_outside(message.text, 300), topic="rollout")

    def finished(self, message: RolloutFinished) -> None:
        """The rollout is over: say what it did, and gather the users again."""
        self._status.set_status(*outcome_text(message.outcome))
        self._usage.gather()

    # -- in a worker ----------------------------------------------------------------------------

    def _plan(self, id_: str) -> None:
        door = self._usage.door
        if door is None:
            return
        gathered = door.gather()
        if gathered.docker:
            return  # no engine: the pane says why, there is nothing to offer
        uses = door.uses_of(gathered, id_)
        if not uses:
            return
        plan = door.plan(uses)
        if plan.empty:
            return
        problem = door.proxy_problem()
        if problem and (plan.projects or plan.containers):
            said = question(plan).removesuffix(": roll out?")
            self._runner.post_message(RolloutPlanned((id_,), None, f"{said}, but {problem}"))
            return
        self._runner.post_message(RolloutPlanned((id_,), plan))


def outcome_text(outcome: RolloutOutcome) -> tuple[str, str]:
    """The status line after a rollout, and its level."""
    done = f"recreated {', '.join(outcome.done)}" if outcome.done else "nothing recreated"
    if outcome.ok:
        return f"Rolled out: {done}.", "success"
    parts = [f"failed {line}" for line in outcome.failed]
    parts += [f"refused {r.line()}" for r in outcome.refused]
    left = len(outcome.failed) + len(outcome.refused)
    text = f"Rollout: {left} left as they were ({'; '.join(parts)}); {done}."
    return clean_outside(text, 2000), "error"
