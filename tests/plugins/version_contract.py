"""The versions a versioned plugin keeps (part of the plugin contract).

:class:`VersionContract` is a base of :class:`~tests.plugins.contract.PluginContract`, so every
plugin's contract class runs it, with that class's ``plugin``, ``engine`` and ``backend``
fixtures.  A plugin that declares ``versioned = True`` (:mod:`docker_pass.core.versions`) is
held to all of it; for one that does not, the tests skip (and the engine refuses it a write
with a version, saying why).

What a subclass may add: :meth:`VersionContract.change_elsewhere`, the secret changed by
another program than this plugin (another process, the backend's own tool), as a person in
another terminal would.  Without it, that one test is skipped.

Semantics held (one rule, whatever the backend): ``get`` carries the version ``save``
returned; any change of the value or the metadata makes a new version, several in one second
too; a save or delete naming a version the secret is not raises ``VersionConflictError``
(``found``: the version there now, ``NO_SECRET`` when there is none) and writes nothing;
``NO_SECRET`` means create-only, and holds again once the secret is deleted; a delete naming a
version finds a secret already gone ``False``, not a conflict; a listing's version, where it
gives one, is ``get``'s; and of writers in threads that read one version, exactly one wins.
A rewrite of exactly what is stored may keep its version (a content token): the tests write
new values each time.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from docker_pass.core.errors import UsageError, VersionConflictError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import Capability, Plugin, WritablePlugin, capabilities_of
from docker_pass.core.results import Removal
from docker_pass.core.versions import NO_SECRET, UNVERSIONED, is_versioned

if TYPE_CHECKING:
    from docker_pass.core.engine import Engine
    from tests.plugins.contract import Backend

#: Distinctive text values (every plugin holds text), found if a message leaks one.
READ = b"version-contract-read-51d0"
THEIRS = b"version-contract-theirs-a7e3"
MINE = b"version-contract-mine-0c9b"
WRITERS = 5


class VersionContract:
    """Shared tests of versions; see the module's docstring."""

    plugin_class: ClassVar[type[Any]]
    realm: ClassVar[str]

    def change_elsewhere(self, backend: Backend, id_: ID, value: bytes) -> None:
        """Replace the secret ``id_`` with ``value`` through another program than this
        plugin; override in the subclass."""
        pytest.skip(f"no other program writes {self.plugin_class.name}'s backend here")

    # -- helpers ----------------------------------------------------------------------------

    def require_versions(self) -> None:
        """Skip unless the plugin writes and keeps versions."""
        if Capability.WRITE not in capabilities_of(self.plugin_class):
            pytest.skip(f"{self.plugin_class.name} does not write")
        if not is_versioned(self.plugin_class):
            pytest.skip(f"{self.plugin_class.name} keeps no versions ({UNVERSIONED})")

    def versioned(self, plugin: Plugin) -> Any:
        """``plugin`` as a writer of versions; skip unless it is one.  (``Any``: the writable
        protocol spells the blind forms; ``expected_version=`` is what ``versioned = True``
        promises, see :class:`~docker_pass.core.plugin.WritablePlugin`.)"""
        self.require_versions()
        assert isinstance(plugin, WritablePlugin)
        return plugin

    def version_id(self, name: str = "versioned") -> ID:
        """An ID the tests of versions write (and delete)."""
        return ID(f"{self.realm}/{name}")

    @staticmethod
    def conflict(write: Any, *args: Any, **kwargs: Any) -> VersionConflictError:
        """The conflict ``write(*args, **kwargs)`` raises."""
        with pytest.raises(VersionConflictError) as raised:
            write(*args, **kwargs)
        return raised.value

    # -- versions ---------------------------------------------------------------------------

    def test_an_unversioned_plugin_is_refused_a_write_with_a_version(self, engine: Engine) -> None:
        if is_versioned(self.plugin_class):
            pytest.skip(f"{self.plugin_class.name} keeps versions")
        if Capability.WRITE not in capabilities_of(self.plugin_class):
            pytest.skip(f"{self.plugin_class.name} does not write")
        with pytest.raises(UsageError, match=UNVERSIONED):
            engine.save(
                self.version_id(), READ, {}, plugin=self.plugin_class.name, expected_version="1"
            )

    def test_a_read_carries_the_version_the_save_returned(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        saved = writer.save(id_, READ, {"k": "v"})
        assert isinstance(saved, str)
        assert saved
        assert saved != NO_SECRET
        assert writer.get(id_).version == saved
        assert writer.get(id_).version == saved  # reading changes nothing
        if Capability.LIST in capabilities_of(self.plugin_class):
            (info,) = writer.list(Pattern(id_.value))
            assert info.version in ("", saved)  # where a listing says it, it is get's
        (resolved,) = writer.resolve(Pattern(id_.value))
        assert resolved.version in ("", saved)

    def test_every_change_makes_a_new_version(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        seen = [writer.save(id_, READ, {})]
        seen.append(writer.save(id_, THEIRS, {}))
        seen.append(writer.save(id_, THEIRS, {"owner": "alice"}))  # metadata only
        seen.extend(writer.save(id_, b"burst-%d" % n, {"owner": "alice"}) for n in range(4))
        assert len(set(seen)) == len(seen)
        assert writer.get(id_).version == seen[-1]

    def test_a_stale_version_is_a_conflict_and_nothing_is_written(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        stale = writer.save(id_, READ, {"k": "1"})
        now = writer.save(id_, THEIRS, {"k": "2"})
        error = self.conflict(writer.save, id_, MINE, {"k": "3"}, expected_version=stale)
        assert (error.id, error.expected, error.found) == (id_.value, stale, now)
        for value in (READ, THEIRS, MINE):
            assert value.decode() not in f"{error} {error!r} {error.changed_by}"
        got = writer.get(id_)
        assert (got.value, dict(got.metadata), got.version) == (THEIRS, {"k": "2"}, now)
        fresh = writer.save(id_, MINE, {"k": "3"}, expected_version=now)
        assert writer.get(id_).version == fresh != now

    def test_no_secret_expected_creates_only(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        created = writer.save(id_, READ, {}, expected_version=NO_SECRET)
        error = self.conflict(writer.save, id_, MINE, {}, expected_version=NO_SECRET)
        assert (error.expected, error.found) == (NO_SECRET, created)
        assert writer.get(id_).value == READ

    def test_a_secret_removed_since_it_was_read_is_a_conflict(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        read = writer.save(id_, READ, {})
        assert writer.delete(id_) is True
        assert self.conflict(writer.save, id_, MINE, {}, expected_version=read).found == NO_SECRET
        # Deleted, it is no secret: create-only holds again, and the old version does not.
        again = writer.save(id_, THEIRS, {}, expected_version=NO_SECRET)
        assert self.conflict(writer.save, id_, MINE, {}, expected_version=read).found == again
        assert writer.get(id_).value == THEIRS

    def test_delete_with_a_version(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        stale = writer.save(id_, READ, {})
        now = writer.save(id_, THEIRS, {})
        error = self.conflict(writer.delete, id_, expected_version=stale)
        assert error.found == now
        assert writer.get(id_).value == THEIRS
        self.conflict(writer.delete, id_, expected_version=NO_SECRET)
        assert writer.delete(id_, expected_version=now) is True
        assert writer.delete(id_, expected_version=now) is False  # gone: nothing lost

    def test_the_engine_writes_and_removes_with_versions(self, engine: Engine) -> None:
        self.require_versions()
        name = self.plugin_class.name
        id_ = self.version_id()
        first = engine.save(id_, READ, {}, plugin=name, expected_version=NO_SECRET)
        assert first.version == engine.get(id_, plugin=name).version
        second = engine.save(id_, THEIRS, {}, plugin=name, expected_version=first.version)
        assert (second.replaced, second.version != first.version) == (True, True)
        error = self.conflict(
            engine.save, id_, MINE, {}, plugin=name, expected_version=first.version
        )
        assert (error.provider, error.found) == (name, second.version)
        removal = engine.remove([id_], plugin=name, expected_versions={id_: first.version})
        ((removed_id, outcome),) = removal.outcomes
        assert removed_id == id_
        assert outcome not in (Removal.REMOVED, Removal.MISSING)  # the conflict, in words
        assert MINE.decode() not in outcome
        assert engine.get(id_, plugin=name).value == THEIRS
        removal = engine.remove([id_], plugin=name, expected_versions={id_: second.version})
        assert removal.outcomes == ((id_, Removal.REMOVED),)

    def test_a_change_made_elsewhere_between_read_and_save_is_a_conflict(
        self, plugin: Plugin, backend: Backend
    ) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        read = writer.save(id_, READ, {})
        self.change_elsewhere(backend, id_, THEIRS)
        error = self.conflict(writer.save, id_, MINE, {}, expected_version=read)
        got = writer.get(id_)
        assert (got.value, error.found) == (THEIRS, got.version)
        assert error.found != read

    def test_of_writers_in_threads_with_one_version_exactly_one_wins(self, plugin: Plugin) -> None:
        writer = self.versioned(plugin)
        id_ = self.version_id()
        instances = [self.plugin_class() for _ in range(WRITERS)]
        for instance in instances:
            instance.start()
        try:
            for round_ in range(2):
                read: str = writer.save(id_, b"round-%d" % round_, {})
                start = threading.Barrier(WRITERS)

                def write(number: int, read: str = read, start: threading.Barrier = start) -> str:
                    start.wait()
                    try:
                        won: str = instances[number].save(
                            id_, b"writer-%d" % number, {}, expected_version=read
                        )
                        return f"won {won}"
                    except VersionConflictError as exc:
                        return "conflict " + exc.found

                with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                    answers = list(pool.map(write, range(WRITERS)))
                won = [n for n, answer in enumerate(answers) if answer.startswith("won ")]
                assert len(won) == 1, answers
                version = answers[won[0]].removeprefix("won ")
                assert sorted(answers) == sorted(
                    [f"won {version}", *[f"conflict {version}"] * (WRITERS - 1)]
                )
                got = writer.get(id_)
                assert (got.value, got.version) == (b"writer-%d" % won[0], version)
        finally:
            for instance in instances:
                instance.stop()
