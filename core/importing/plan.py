"""What ``import`` does with each binding of a file: store, reuse, replace, keep or refuse.

A plan is made before anything is written (:func:`make_plan`), so ``--dry-run`` shows exactly
what a real run does; :func:`carry_out` stores the values, stopping at the first failure with
an error that names what was already stored.  Values stay in memory: no step prints, logs or
passes one on except to the plugin that stores it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.importing.naming import MAX_COMPONENT, component_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from docker_pass.core.ids import ID

__all__ = ["Action", "Item", "Plan", "carry_out", "make_plan"]


class Action:
    """What happens to one binding (string constants: the JSON output's ``action``)."""

    STORE = "store"  #: a new secret is stored and the value becomes a reference
    REUSE = "reuse"  #: a secret with the same value exists: only the file changes
    REPLACE = "replace"  #: a different value exists and ``--overwrite`` replaces it
    KEEP = "keep"  #: a reference already, an empty value, or a bare KEY: left alone
    REFUSE = "refuse"  #: cannot be imported (the reason says why): left alone, exit 1

    #: The actions that turn the binding into a reference.
    REWRITTEN = frozenset({STORE, REUSE, REPLACE})


class Item:
    """One binding's fate: key, line, the target ID (``None`` when it has none), action and
    reason.  Holds the value only in ``value`` (bytes), which no repr or output shows."""

    __slots__ = ("action", "id", "index", "key", "line", "reason", "value")

    def __init__(self, index: int, key: str, line: int, value: bytes | None) -> None:
        self.index = index
        self.key = key
        self.line = line
        self.value = value
        self.id: ID | None = None
        self.action = Action.KEEP
        self.reason = ""

    def __repr__(self) -> str:  # never the value
        return f"Item(key={self.key!r}, line={self.line}, action={self.action!r})"


class Plan:
    """The items of one file, in file order."""

    __slots__ = ("items",)

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    @property
    def rewritten(self) -> list[Item]:
        """The items that become references."""
        return [item for item in self.items if item.action in Action.REWRITTEN]

    @property
    def refused(self) -> list[Item]:
        """The items that could not be imported."""
        return [item for item in self.items if item.action == Action.REFUSE]


def make_plan(
    bindings: Sequence[tuple[str, int, str | None]],
    prefix: str,
    *,
    stored_value: Callable[[ID], bytes | None],
    held_elsewhere: Callable[[list[ID]], Mapping[ID, list[str]]],
    overwrite: bool = False,
    kept: Callable[[int], str] | None = None,
) -> Plan:
    """The plan for ``bindings`` (key, line, value or ``None``) under ``prefix``.

    ``stored_value(id)``: the value the target plugin holds at ``id`` (``None`` when none);
    ``held_elsewhere(ids)``: for each ID another running plugin holds too, their names (a
    reference to it would then match two secrets and fail); ``kept(index)``: why the value of
    the binding at ``index`` is left alone in this kind of file ("" when it is not)."""
    from docker_pass.core.ids import ID
    from docker_pass.core.names import ENGINE_REALM
    from docker_pass.core.plugin import is_reserved
    from docker_pass.core.references.syntax import is_reference

    items: list[Item] = []
    groups: dict[str, list[Item]] = {}
    for index, (key, line, value) in enumerate(bindings):
        item = Item(index, key, line, None if value is None else value.encode("utf-8"))
        items.append(item)
        if value is None:
            item.reason = "no value (docker takes it from the environment)"
        elif value == "":
            item.reason = "empty value"
        elif is_reference(value):
            item.reason = "already a reference"
        elif kept is not None and (why := kept(index)):
            item.reason = why
        else:
            component = component_of(key)
            if len(component) > MAX_COMPONENT:
                _refuse(item, f"the name is longer than {MAX_COMPONENT} characters")
                continue
            groups.setdefault(f"{prefix}/{component}", []).append(item)
    for text, group in groups.items():
        id_ = ID.parse(text)
        for item in group:
            item.id = id_
        if len({item.value for item in group}) > 1:
            names = ", ".join(f"{item.key} (line {item.line})" for item in group)
            for item in group:
                _refuse(item, f"{names} all become {id_} but hold different values")
        elif is_reserved(id_):
            for item in group:
                _refuse(item, f"{id_} is in the engine's own realm {ENGINE_REALM}/**")
    pending = [group for group in groups.values() if group[0].action != Action.REFUSE]
    others = held_elsewhere([group[0].id for group in pending if group[0].id is not None])
    for group in pending:
        first = group[0]
        assert first.id is not None  # noqa: S101 - set above for every grouped item
        holders = others.get(first.id)
        if holders:
            for item in group:
                _refuse(
                    item,
                    f"plugin {', '.join(holders)} holds {first.id} too: se://{first.id} "
                    "would match two secrets",
                )
            continue
        existing = stored_value(first.id)
        if existing is None:
            action, reason = Action.STORE, ""
        elif existing == first.value:
            action, reason = Action.REUSE, f"{first.id} holds the same value"
        elif overwrite:
            action, reason = Action.REPLACE, f"{first.id} held a different value (--overwrite)"
        else:
            for item in group:
                _refuse(item, f"{first.id} holds a different value (--overwrite replaces it)")
            continue
        for number, item in enumerate(group):
            # The first of identical duplicates stores; the others reuse what it stored.
            item.action = action if number == 0 or action == Action.REUSE else Action.REUSE
            item.reason = reason if number == 0 else f"same value as line {first.line}"
    return Plan(items)


def _refuse(item: Item, reason: str) -> None:
    item.action = Action.REFUSE
    item.reason = reason


def carry_out(plan: Plan, save: Callable[[ID, bytes], object]) -> list[ID]:
    """Store every value the plan stores or replaces, in file order; the IDs stored.

    A failure stops at once: the error says which IDs were stored before it (they stay: the
    file is not rewritten, and running ``import`` again reuses them)."""
    done: list[ID] = []
    for item in plan.items:
        if item.action not in (Action.STORE, Action.REPLACE):
            continue
        assert item.id is not None  # noqa: S101 - planned so
        assert item.value is not None  # noqa: S101 - planned so
        try:
            save(item.id, item.value)
        except DockerPassError as exc:
            stored = ", ".join(str(id_) for id_ in done) or "none"
            raise DockerPassError(
                f"storing {item.id}: {exc}; the file is unchanged; already stored: {stored}"
            ).with_hints(*exc.hints) from None
        done.append(item.id)
    return done
