"""``SecretInfo`` is a tuple underneath (one C call per listed entry); nothing else shows it.

``SecretInfo.many`` builds entries without calling the constructor: these check that it builds
exactly what the constructor builds, and that the tuple layout leaks into no behaviour a value
object did not have (equality with tuples, ordering, iteration, length, mutation).
"""

from __future__ import annotations

import copy
from types import MappingProxyType
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core import ID
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.value import FrozenValue

IDS = st.sampled_from(["a", "a/b", "team/db/password", "x:y/z.w_-", "Z9"]).map(ID)
# Odd metadata: empty, unicode, keys that sort differently from their insertion order.
METADATA = st.dictionaries(
    st.text(alphabet="ab_.-é", min_size=0, max_size=3), st.text(max_size=4), max_size=3
)
TIMES = st.none() | st.integers(min_value=0, max_value=2**40) | st.floats(allow_nan=False)
VERSIONS = st.text(max_size=5)
ROWS = st.lists(st.tuples(IDS, METADATA, TIMES, VERSIONS), max_size=6)
FIELDS = ("id", "provider", "metadata", "updated_at", "version", "deleted")


def fields(info: SecretInfo) -> tuple[object, ...]:
    return tuple(getattr(info, name) for name in FIELDS)


@given(ROWS, st.sampled_from(["", "docker-pass", "vault"]), st.booleans())
def test_many_builds_what_the_constructor_builds(
    rows: list[tuple[ID, dict[str, str], float | None, str]], provider: str, proxied: bool
) -> None:
    metas = [MappingProxyType(m) if proxied else m for _, m, _, _ in rows]
    ids = [r[0] for r in rows]
    times = [r[2] for r in rows]
    versions = [r[3] for r in rows]
    fast = SecretInfo.many(ids, provider, metas, times, versions)
    slow = [
        SecretInfo(i, provider, m, t, v)
        for i, m, t, v in zip(ids, metas, times, versions, strict=True)
    ]
    assert fast == slow
    for a, b in zip(fast, slow, strict=True):
        assert type(a) is type(b) is SecretInfo
        assert hash(a) == hash(b)
        assert repr(a) == repr(b)
        assert fields(a) == fields(b)
        assert a.metadata is b.metadata  # the shared map itself, not a copy
    without = SecretInfo.many(ids, provider, metas, times)
    assert [i.version for i in without] == [""] * len(rows)


@given(IDS, METADATA, TIMES, VERSIONS, st.booleans())
def test_fields_read_back_and_deleted_marks_no_identity(
    id_: ID, meta: dict[str, str], when: float | None, version: str, deleted: bool
) -> None:
    info = SecretInfo(id_, "p", meta, when, version, deleted=deleted)
    assert fields(info) == (id_, "p", meta, when, version, deleted)
    other = SecretInfo(id_, "p", dict(reversed(meta.items())), None, "", deleted=not deleted)
    assert info == other
    assert not info != other  # noqa: SIM202 - __ne__ itself is under test
    assert hash(info) == hash(other)
    assert ("deleted=True" in repr(info)) is deleted
    assert info.stamped("q") == SecretInfo(id_, "q", meta)
    assert fields(info.stamped("q"))[3:] == (when, version, deleted)


def test_no_tuple_behaviour_shows() -> None:
    info = SecretInfo(ID("a/b"), "p", {"k": "v"}, 3.0, "v1")
    as_tuple = (ID("a/b"), "p", {"k": "v"}, 3.0, "v1", False)
    assert isinstance(info, FrozenValue)
    assert info != as_tuple
    assert as_tuple != info
    assert not info == as_tuple  # noqa: SIM201 - __eq__ itself is under test
    assert info == mock.ANY  # another type still answers for itself
    assert info != 1
    assert bool(info)
    for refused in (
        lambda: info < SecretInfo(ID("a")),
        lambda: sorted([info, info]),
        lambda: list(info),
        lambda: len(info),
        lambda: "p" in info,
    ):
        with pytest.raises(TypeError):
            refused()
    with pytest.raises(AttributeError, match="immutable"):
        info.provider = "q"
    with pytest.raises(AttributeError, match="immutable"):
        del info.provider
    assert copy.copy(info) == info
    assert fields(copy.copy(info)) == fields(info)
    assert "v1" not in repr(info)  # the version token is no part of its repr either


def test_many_refuses_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        SecretInfo.many([ID("a")], "p", [{}], [None, None])
    with pytest.raises(ValueError, match="different lengths"):
        SecretInfo.many([ID("a")], "p", [{}], [None], ["v", "w"])
