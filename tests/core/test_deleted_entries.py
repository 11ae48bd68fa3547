"""Deleted secrets in the engine: listed only when asked, restored by ``undelete``.

A plugin that keeps deleted versions (vault) says so with an ``undelete`` method; its ``list``
then takes ``deleted=True``.  The engine asks it for deleted entries only when its caller
does, restores through it, and refuses ``undelete`` for any other plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import pytest

from docker_pass.core import ID, Pattern, SecretInfo
from docker_pass.core.engine import Engine
from docker_pass.core.errors import FatalPluginError, PluginError, UsageError
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core.results import Removal
from tests.core.test_engine import FakePlugin, make

if TYPE_CHECKING:
    import builtins

EVERYTHING = Pattern.parse("**")


class KeepsDeleted(FakePlugin):
    """Live secrets in ``secrets``, deleted ones in ``gone``; ``undelete`` moves one back."""

    capabilities = READ_WRITE
    gone: ClassVar[dict[str, bytes]] = {}
    asked_deleted: ClassVar[list[bool]] = []
    refuse: ClassVar[dict[str, Exception]] = {}

    def list(self, pattern: Pattern, *, deleted: bool = False) -> builtins.list[SecretInfo]:
        type(self).asked_deleted.append(deleted)
        live = [SecretInfo(ID(k), version="2") for k in self.secrets if pattern.matches(k)]
        if not deleted:
            return live
        dead = [
            SecretInfo(ID(k), version="3", deleted=True) for k in self.gone if pattern.matches(k)
        ]
        return sorted(live + dead, key=lambda i: i.id.value)

    def undelete(self, id_: ID) -> bool:
        if id_.value in self.refuse:
            raise self.refuse[id_.value]
        if id_.value not in self.gone:
            return False
        self.secrets[id_.value] = self.gone.pop(id_.value)
        return True


def keeper(name: str = "keeper", **attrs: object) -> type[KeepsDeleted]:
    made = type(
        f"Keeper_{name}",
        (KeepsDeleted,),
        {
            "name": name,
            "started": 0,
            "secrets": {"app/live": b"1"},
            "gone": {"app/old": b"2"},
            "asked_deleted": [],
            "refuse": {},
            **attrs,
        },
    )
    return made


def test_deleted_entries_are_listed_only_when_asked_and_marked() -> None:
    plugin = keeper()
    engine = Engine(factories={"keeper": plugin})
    assert [i.id.value for i in engine.list_secrets(EVERYTHING).infos] == ["app/live"]
    listing = engine.list_secrets(EVERYTHING, deleted=True)
    assert [(i.id.value, i.deleted, i.version) for i in listing.infos] == [
        ("app/live", False, "2"),
        ("app/old", True, "3"),
    ]
    assert plugin.asked_deleted == [False, True]
    one = engine.list_secrets(EVERYTHING, plugin="keeper", deleted=True)
    assert [i.deleted for i in one.infos] == [False, True]


def test_a_plugin_without_undelete_is_asked_as_always_and_lists_its_secrets() -> None:
    engine = Engine(
        factories={"plain": make("plain", secrets={"x": b"1"}), "keeper": keeper()},
    )
    listing = engine.list_secrets(EVERYTHING, deleted=True)
    assert [(i.id.value, i.provider, i.deleted) for i in listing.infos] == [
        ("app/live", "keeper", False),
        ("app/old", "keeper", True),
        ("x", "plain", False),
    ]


def test_the_deleted_mark_and_the_version_survive_the_providers_stamp() -> None:
    class Impostor(KeepsDeleted):
        def list(self, pattern: Pattern, *, deleted: bool = False) -> builtins.list[SecretInfo]:
            return [SecretInfo(ID("app/old"), "someone-else", version="7", deleted=True)]

    engine = Engine(factories={"keeper": keeper(list=Impostor.list)})
    (entry,) = engine.list_secrets(EVERYTHING, deleted=True).infos
    assert (entry.provider, entry.version, entry.deleted) == ("keeper", "7", True)


def test_the_deleted_mark_is_no_part_of_a_secrets_identity() -> None:
    live = SecretInfo(ID("a"), "vault", {"k": "v"}, 1.0, "4")
    dead = SecretInfo(ID("a"), "vault", {"k": "v"}, 2.0, "5", deleted=True)
    assert live == dead
    assert hash(live) == hash(dead)
    assert dead.deleted is True
    assert live.deleted is False
    assert "deleted=True" in repr(dead)
    assert "deleted" not in repr(live)
    assert SecretInfo.many([ID("b")], "p", [{}], [None])[0].deleted is False


def test_undelete_restores_each_and_says_what_was_missing_or_failed() -> None:
    plugin = keeper(refuse={"app/bad": PluginError("its latest version was destroyed")})
    engine = Engine(factories={"keeper": plugin})
    result = engine.undelete([ID("app/old"), ID("app/none"), ID("app/bad")], plugin="keeper")
    assert result.provider == "keeper"
    assert result.outcomes == (
        (ID("app/old"), Removal.RESTORED),
        (ID("app/none"), Removal.MISSING),
        (ID("app/bad"), "its latest version was destroyed"),
    )
    assert result.failed
    assert Removal.RESTORED == "restored"
    assert not Removal("keeper", ((ID("a"), Removal.RESTORED),)).failed
    assert [i.id.value for i in engine.list_secrets(EVERYTHING).infos] == ["app/live", "app/old"]


def test_a_fatal_failure_during_undelete_marks_the_plugin_crashed() -> None:
    plugin = keeper(refuse={"app/old": FatalPluginError("token revoked")})
    engine = Engine(factories={"keeper": plugin})
    result = engine.undelete([ID("app/old")], plugin="keeper")
    assert result.outcomes == ((ID("app/old"), "token revoked"),)
    assert engine.status("keeper").is_down


def test_undelete_on_a_plugin_that_keeps_no_deleted_secrets_is_a_usage_error() -> None:
    engine = Engine(factories={"plain": make("plain", capabilities=READ_WRITE)})
    with pytest.raises(UsageError, match="plugin plain keeps no deleted secrets: undelete is"):
        engine.undelete([ID("x")], plugin="plain")
