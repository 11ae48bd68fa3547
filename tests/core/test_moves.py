"""core/moves on the real file store (versioned) and an unversioned writable plugin: what a move
does when the old secret changes or goes between the copy and the removal, when the new ID is
taken, when the copy cannot be written, and what a realm's move reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.engine import Engine, plugin_spec
from docker_pass.core.errors import (
    DockerPassError,
    SecretNotFoundError,
    UsageError,
    VersionConflictError,
)
from docker_pass.core.moves import Moved
from docker_pass.core.plugin import READ_ONLY, READ_WRITE

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from docker_pass.core.results import Removal

KEYCHAIN = "docker-pass"


class DictPlugin:
    """A writable plugin that keeps no versions (it declares no ``versioned``)."""

    name = "dict"
    version = "1.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_WRITE
    data: ClassVar[dict[str, tuple[bytes, dict[str, str]]]] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "a dict"

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        return [
            SecretInfo(ID(k), metadata=m) for k, (_, m) in self.data.items() if pattern.matches(k)
        ]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        return [
            Envelope(ID(k), v, metadata=m) for k, (v, m) in self.data.items() if pattern.matches(k)
        ]

    def get(self, id_: ID) -> Envelope:
        if id_.value not in self.data:
            raise SecretNotFoundError
        value, meta = self.data[id_.value]
        return Envelope(id_, value, metadata=meta)

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
        self.data[id_.value] = (value, dict(metadata))

    def delete(self, id_: ID) -> bool:
        return self.data.pop(id_.value, None) is not None


class ReadOnlyPlugin(DictPlugin):
    """The same, read-only."""

    name = "ro"
    capabilities = READ_ONLY


class Meddling(Engine):
    """An engine whose next removal is preceded by ``before_remove`` — another writer getting
    in between a move's copy and its removal."""

    before_remove: Callable[[], None] | None = None

    def remove(self, ids: Sequence[ID], **kwargs: Any) -> Removal:
        if ids:  # not the move's first check that the plugin can delete
            meddle, self.before_remove = self.before_remove, None
            if meddle is not None:
                meddle()
        return super().remove(ids, **kwargs)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Meddling]:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    DictPlugin.data = {}
    ReadOnlyPlugin.data = {}
    engine = Meddling(
        specs={KEYCHAIN: plugin_spec(KEYCHAIN)},
        factories={"dict": DictPlugin, "ro": ReadOnlyPlugin},
    )
    try:
        yield engine
    finally:
        engine.close()


def outside(id_: str, value: bytes) -> None:
    """Another process's engine writing to the file store."""
    with Engine.for_plugin(KEYCHAIN) as other:
        other.save(ID(id_), value, {})


def value_of(engine: Engine, id_: str, plugin: str = KEYCHAIN) -> bytes | None:
    try:
        return engine.get(ID(id_), plugin=plugin).value
    except SecretNotFoundError:
        return None


def test_a_change_between_copy_and_removal_keeps_both(engine: Meddling) -> None:
    engine.save(ID("a/old"), b"copied", {"k": "v"})
    before = engine.get(ID("a/old")).version
    engine.before_remove = lambda: outside("a/old", b"changed-meanwhile")
    moved = engine.move(ID("a/old"), ID("a/new"), plugin=KEYCHAIN)
    now = engine.get(ID("a/old")).version
    assert moved.outcome == Moved.BOTH_KEPT
    assert moved.message == (
        f"copied to docker-pass:a/new but docker-pass:a/old changed meanwhile "
        f"(version {now} ≠ {before}): both kept"
    )
    assert (value_of(engine, "a/old"), value_of(engine, "a/new")) == (
        b"changed-meanwhile",
        b"copied",
    )
    assert engine.get(ID("a/new")).metadata == {"k": "v"}


def test_a_removal_meanwhile_still_moves(engine: Meddling) -> None:
    engine.save(ID("a/old"), b"v", {})

    def remove_it() -> None:
        with Engine.for_plugin(KEYCHAIN) as other:
            other.remove([ID("a/old")])

    engine.before_remove = remove_it
    moved = engine.move(ID("a/old"), ID("a/new"), plugin=KEYCHAIN)
    assert (moved.outcome, moved.message) == (
        Moved.MOVED,
        "docker-pass:a/old was removed meanwhile",
    )
    assert value_of(engine, "a/new") == b"v"


def test_an_unversioned_plugin_is_compared_before_removal(engine: Meddling) -> None:
    DictPlugin.data["d/old"] = (b"v", {"m": "1"})
    moved = engine.move(ID("d/old"), ID("d/new"), plugin="dict")
    assert (moved.outcome, moved.checked) == (Moved.MOVED, False)
    assert moved.message == "dict keeps no versions: compared before removal"
    assert DictPlugin.data == {"d/new": (b"v", {"m": "1"})}
    DictPlugin.data["d/other"] = (b"w", {})

    def change() -> None:
        DictPlugin.data["d/other"] = (b"changed", {})

    engine.before_remove = None
    original_get = engine.get
    calls = 0

    def get_then_change(id_: ID, *, plugin: str = KEYCHAIN) -> Envelope:
        nonlocal calls
        calls += 1
        envelope = original_get(id_, plugin=plugin)
        if calls == 1:
            change()  # after the read that is copied, before the comparison
        return envelope

    engine.get = get_then_change  # type: ignore[method-assign]
    kept = engine.move(ID("d/other"), ID("d/copy"), plugin="dict")
    assert kept.outcome == Moved.BOTH_KEPT
    assert kept.message == "copied to dict:d/copy but dict:d/other changed meanwhile: both kept"
    assert DictPlugin.data["d/other"] == (b"changed", {})
    assert DictPlugin.data["d/copy"] == (b"w", {})


def test_a_taken_id_refuses_with_nothing_changed(engine: Meddling) -> None:
    engine.save(ID("t/a"), b"a", {})
    engine.save(ID("t/b"), b"b", {})
    with pytest.raises(VersionConflictError) as caught:
        engine.move(ID("t/a"), ID("t/b"), plugin=KEYCHAIN)
    assert str(caught.value).startswith("docker-pass:t/b exists already (version ")
    assert "nothing moved, docker-pass:t/a is as it was" in str(caught.value)
    assert (caught.value.id, caught.value.provider) == ("t/b", KEYCHAIN)
    DictPlugin.data["t/b"] = (b"in-dict", {})
    with pytest.raises(VersionConflictError, match=r"^dict:t/b exists already: nothing moved"):
        engine.move(ID("t/a"), ID("t/b"), plugin=KEYCHAIN, to_plugin="dict")
    assert (value_of(engine, "t/a"), value_of(engine, "t/b")) == (b"a", b"b")
    assert DictPlugin.data["t/b"] == (b"in-dict", {})
    replaced = engine.move(ID("t/a"), ID("t/b"), plugin=KEYCHAIN, to_plugin="dict", replace=True)
    assert replaced.moved
    assert DictPlugin.data["t/b"] == (b"a", {})


def test_a_copy_that_cannot_be_written_keeps_the_old_one(engine: Meddling) -> None:
    engine.save(ID("c/a"), b"a", {})
    with pytest.raises(DockerPassError) as failed:
        engine.move(ID("c/a"), ID("c/b"), plugin=KEYCHAIN, to_plugin="ro")
    assert str(failed.value).startswith("cannot write ro:c/b: plugin ro is read-only")
    assert str(failed.value).endswith("; nothing moved, docker-pass:c/a is as it was")
    ReadOnlyPlugin.data = {"c/ro": (b"read-only", {})}
    with pytest.raises(DockerPassError) as cannot:
        engine.move(ID("c/ro"), ID("c/ro"), plugin="ro", to_plugin=KEYCHAIN)
    assert str(cannot.value).startswith("cannot move ro:c/ro: plugin ro is read-only")
    assert str(cannot.value).endswith("; nothing moved")
    assert value_of(engine, "c/ro") is None  # no copy left beside a secret that cannot go
    with pytest.raises(DockerPassError, match="nosuch"):
        engine.move(ID("c/a"), ID("c/b"), plugin=KEYCHAIN, to_plugin="nosuch")
    assert value_of(engine, "c/a") == b"a"
    assert value_of(engine, "c/b", "ro") is None
    with pytest.raises(UsageError, match="reserved"):
        engine.move(ID("c/a"), ID("docker/secrets-engine/x"), plugin=KEYCHAIN)
    with pytest.raises(UsageError, match="already there"):
        engine.move(ID("c/a"), ID("c/a"), plugin=KEYCHAIN)
    with pytest.raises(SecretNotFoundError, match="docker-pass:c/none"):
        engine.move(ID("c/none"), ID("c/b"), plugin=KEYCHAIN)


def test_a_realm_reports_each_id(engine: Meddling) -> None:
    for id_ in ("r/a", "r/b", "r/c/d"):
        engine.save(ID(id_), id_.encode(), {})
    engine.save(ID("s/b"), b"taken", {})
    engine.save(ID("r"), b"not-under-it", {})
    result = engine.move_realm(ID("r"), ID("s"), plugin=KEYCHAIN)
    assert [(m.old.value, m.new.value, m.outcome) for m in result.moves] == [
        ("r/a", "s/a", Moved.MOVED),
        ("r/b", "s/b", Moved.KEPT),
        ("r/c/d", "s/c/d", Moved.MOVED),
    ]
    assert "docker-pass:s/b exists already" in result.moves[1].message
    assert result.summary() == "moved 2 of 3 secrets from r/ to s/; kept 1"
    assert (value_of(engine, "r/b"), value_of(engine, "s/b")) == (b"r/b", b"taken")
    assert value_of(engine, "r") == b"not-under-it"
    with pytest.raises(UsageError, match="into itself"):
        engine.move_realm(ID("s"), ID("s/deeper"), plugin=KEYCHAIN)
    with pytest.raises(SecretNotFoundError, match="no secret under it"):
        engine.move_realm(ID("empty"), ID("s"), plugin=KEYCHAIN)
    across = engine.move_realm(ID("s"), ID("x"), plugin=KEYCHAIN, to_plugin="dict")
    assert across.complete
    assert across.summary() == "moved 3 of 3 secrets from docker-pass:s/ to dict:x/"
    assert sorted(DictPlugin.data) == ["x/a", "x/b", "x/c/d"]
