"""The engine's listing path: order, provider stamps, filters, and the change time kept."""

from __future__ import annotations

import builtins
from types import MappingProxyType
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core import ID, Pattern
from docker_pass.core.engine import _RESERVED_PREFIX, Engine, _may_hold_reserved
from docker_pass.core.envelope import SecretInfo
from tests.core.test_engine import FakePlugin, make

if TYPE_CHECKING:
    from collections.abc import Sequence

EVERYTHING = Pattern.parse("**")


def listing_plugin(name: str, infos: Sequence[SecretInfo]) -> type[FakePlugin]:
    """A plugin that lists exactly ``infos``, in their order, whatever it is asked."""

    def list_(self: FakePlugin, pattern: Pattern) -> builtins.list[SecretInfo]:
        return builtins.list(infos)

    return make(name, list=list_)


def info(raw: str, provider: str = "", updated_at: float | None = None) -> SecretInfo:
    return SecretInfo(ID(raw), provider, MappingProxyType({"k": raw}), updated_at)


def test_one_plugins_unsorted_listing_comes_out_sorted_and_stamped() -> None:
    given = [info("b/2", updated_at=20), info("a/1", updated_at=10), info("c/3")]
    listing = Engine(factories={"p": listing_plugin("p", given)}).list_secrets(EVERYTHING)
    assert [(i.id.value, i.provider, i.updated_at) for i in listing.infos] == [
        ("a/1", "p", 10),
        ("b/2", "p", 20),
        ("c/3", "p", None),
    ]
    assert [dict(i.metadata) for i in listing.infos] == [{"k": "a/1"}, {"k": "b/2"}, {"k": "c/3"}]


def test_entries_already_stamped_by_their_plugin_are_passed_on_as_they_are() -> None:
    given = [info("a/1", "p", 1.5), info("b/2", "p")]
    listing = Engine(factories={"p": listing_plugin("p", given)}).list_secrets(EVERYTHING)
    assert [i is g for i, g in zip(listing.infos, given, strict=True)] == [True, True]


def test_a_plugin_stamping_another_name_is_restamped_with_its_own() -> None:
    given = [info("a/1", "impostor", 3)]
    (entry,) = Engine(factories={"p": listing_plugin("p", given)}).list_secrets(EVERYTHING).infos
    assert (entry.provider, entry.updated_at) == ("p", 3)


def test_several_plugins_merge_by_id_then_provider() -> None:
    engine = Engine(
        factories={
            "b": listing_plugin("b", [info("x/1"), info("a/1")]),
            "a": listing_plugin("a", [info("x/1"), info("z/9")]),
        }
    )
    listing = engine.list_secrets(EVERYTHING)
    assert [(i.id.value, i.provider) for i in listing.infos] == [
        ("a/1", "b"),
        ("x/1", "a"),
        ("x/1", "b"),
        ("z/9", "a"),
    ]


def test_the_request_and_the_plugins_scope_still_filter_what_a_plugin_answers() -> None:
    given = [info("app/db"), info("app/x"), info("other/y")]
    plugin = listing_plugin("p", given)
    plugin.pattern = Pattern.parse("app/**")
    engine = Engine(factories={"p": plugin})
    assert [i.id.value for i in engine.list_secrets(EVERYTHING).infos] == ["app/db", "app/x"]
    assert [i.id.value for i in engine.list_secrets(Pattern.parse("*/db")).infos] == ["app/db"]


def test_the_reserved_realm_is_dropped_unless_asked_for_even_next_to_lookalikes() -> None:
    given = [
        info("docker/secrets-engine"),
        info("docker/secrets-engine/x"),
        info("docker/secrets-engine-not/x"),
        info("docker/secrets-enginex"),
    ]
    engine = Engine(factories={"p": listing_plugin("p", given)})
    assert [i.id.value for i in engine.list_secrets(EVERYTHING).infos] == [
        "docker/secrets-engine-not/x",
        "docker/secrets-enginex",
    ]
    everything = engine.list_secrets(EVERYTHING, reserved=True).infos
    assert len(everything) == 4


@given(
    st.lists(
        st.sampled_from(
            [
                "docker/secrets-engine",
                "docker/secrets-engine/x",
                "docker/secrets-enginf",
                "docker/secrets-engin",
                "docker/a",
                "e",
                "a/b",
                "docker/secrets-engine-x/y",
            ]
        ),
        max_size=8,
    )
)
def test_the_reserved_realm_check_agrees_with_a_startswith_per_id(texts: list[str]) -> None:
    """Sorted texts are bisected, others searched joined: both say what a loop would."""
    expected = any(t.startswith(_RESERVED_PREFIX) for t in texts)
    assert _may_hold_reserved(sorted(texts), ordered=True) is expected
    assert _may_hold_reserved(texts, ordered=False) is expected


def test_an_unsorted_listing_is_sorted_and_loses_its_reserved_entries() -> None:
    given = [info("z/1"), info("docker/secrets-engine/x"), info("a/1"), info("docker/x")]
    engine = Engine(factories={"p": listing_plugin("p", given)})
    assert [i.id.value for i in engine.list_secrets(EVERYTHING).infos] == ["a/1", "docker/x", "z/1"]
