"""The versions every store behind the ``docker-pass`` plugin keeps (part of the store contract).

:class:`StoreVersionContract` is a base of :class:`~tests.backends.contract.StoreContract`, so
every store's test class runs it with the same ``store`` fixture.  A subclass may provide
:meth:`~StoreVersionContract.twin` (another handle on the same storage, as another process
opens it) and :meth:`~StoreVersionContract.spec` (how :mod:`tests.support.version_writer`
opens it in a process of its own); the tests that need them are skipped otherwise.

What is held: every read carries a version, and every write that changes the value or the
metadata makes a new one (several in the same second too); a write that expects a version
writes only when the secret is that version, and otherwise raises ``VersionConflictError``
(saying what is there now) and changes nothing; ``NO_SECRET`` means create-only; and of many
writers, in threads or processes, that read the same version, exactly one wins.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core import ID, Pattern, SecretNotFoundError
from docker_pass.core.errors import VersionConflictError
from docker_pass.core.versions import NO_SECRET
from tests.support.version_writer import race

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Mapping

    from docker_pass.core.store import SecretStore

    Spawn = Callable[..., subprocess.Popen[bytes]]

ID_ = ID("versions/app/token")
#: Values long enough to be found if a message leaks one.
FIRST = b"version-value-first-8c1d"
SECOND = b"version-value-second-41fa"
WRITERS = 6


def contents(store: SecretStore, id_: ID = ID_) -> tuple[bytes, dict[str, str], str]:
    """What ``store`` holds for ``id_``: value, metadata, version."""
    envelope = store.get(id_)
    return envelope.value, dict(envelope.metadata), envelope.version


class StoreVersionContract:
    """Shared tests of versions; see the module's docstring."""

    def twin(self, store: SecretStore) -> SecretStore:
        """Another store object over the same storage (as another process would open it)."""
        pytest.skip("this store's tests give no second handle on its storage")

    def spec(self, store: SecretStore) -> Mapping[str, Any]:
        """How a writer process opens the same storage (:func:`~tests.support.version_writer
        .open_store`)."""
        pytest.skip("this store's tests give no way to open it in another process")

    # -- versions that reads carry ----------------------------------------------------------

    def test_a_read_carries_the_version_the_save_returned(self, store: SecretStore) -> None:
        saved = store.save(ID_, FIRST, {"k": "v"})
        assert saved
        assert saved != NO_SECRET
        assert store.get(ID_).version == saved
        assert store.get(ID_).version == saved  # reading changes nothing
        listed = {i.id: i.version for i in store.list(Pattern("versions/**"))}
        assert listed[ID_] in ("", saved)  # a listing says it only where that is cheap
        (resolved,) = store.resolve(Pattern(ID_.value))
        assert resolved.version == saved

    def test_every_change_makes_a_new_version(self, store: SecretStore) -> None:
        seen = [store.save(ID_, FIRST, {})]
        seen.append(store.save(ID_, SECOND, {}))  # the value
        seen.append(store.save(ID_, SECOND, {"owner": "alice"}))  # the metadata only
        seen.append(store.save(ID_, SECOND, {"owner": "bob"}))  # a metadata value only
        # A burst: all within a second or so, each a change.
        seen.extend(store.save(ID_, b"burst-%d" % n, {"owner": "bob"}) for n in range(5))
        assert len(set(seen)) == len(seen)
        assert store.get(ID_).version == seen[-1]

    def test_two_secrets_with_one_value_have_different_versions(self, store: SecretStore) -> None:
        assert store.save(ID("versions/a"), FIRST, {}) != store.save(ID("versions/b"), FIRST, {})

    # -- writes that expect a version -------------------------------------------------------

    def test_the_version_read_lets_the_write_through(self, store: SecretStore) -> None:
        read = store.save(ID_, FIRST, {})
        new = store.save(ID_, SECOND, {"k": "v"}, expected_version=read)
        assert new != read
        assert contents(store) == (SECOND, {"k": "v"}, new)

    def test_a_stale_version_is_a_conflict_and_nothing_is_written(self, store: SecretStore) -> None:
        stale = store.save(ID_, FIRST, {"k": "1"})
        now = store.save(ID_, SECOND, {"k": "2"})  # someone else's change
        with pytest.raises(VersionConflictError) as conflict:
            store.save(ID_, b"mine-would-be-lost", {"k": "3"}, expected_version=stale)
        error = conflict.value
        assert (error.id, error.expected, error.found) == (ID_.value, stale, now)
        assert "nothing was written" in str(error)
        for value in (FIRST, SECOND, b"mine-would-be-lost"):
            assert value.decode() not in f"{error} {error!r} {error.changed_by}"
        assert contents(store) == (SECOND, {"k": "2"}, now)

    def test_no_secret_expected_creates_only(self, store: SecretStore) -> None:
        created = store.save(ID_, FIRST, {}, expected_version=NO_SECRET)
        assert contents(store) == (FIRST, {}, created)
        with pytest.raises(VersionConflictError) as conflict:
            store.save(ID_, SECOND, {}, expected_version=NO_SECRET)
        assert (conflict.value.expected, conflict.value.found) == (NO_SECRET, created)
        assert contents(store) == (FIRST, {}, created)

    def test_a_secret_removed_since_it_was_read_is_a_conflict(self, store: SecretStore) -> None:
        read = store.save(ID_, FIRST, {})
        assert store.delete(ID_)
        with pytest.raises(VersionConflictError) as conflict:
            store.save(ID_, SECOND, {}, expected_version=read)
        assert conflict.value.found == NO_SECRET
        with pytest.raises(SecretNotFoundError):
            store.get(ID_)

    def test_a_secret_made_again_is_not_the_one_read(self, store: SecretStore) -> None:
        read = store.save(ID_, FIRST, {})
        assert store.delete(ID_)
        again = store.save(ID_, SECOND, {})
        with pytest.raises(VersionConflictError):
            store.save(ID_, b"mine", {}, expected_version=read)
        assert contents(store) == (SECOND, {}, again)

    def test_no_version_known_is_never_the_stored_one(self, store: SecretStore) -> None:
        store.save(ID_, FIRST, {})
        with pytest.raises(VersionConflictError):
            store.save(ID_, SECOND, {}, expected_version="")
        with pytest.raises(VersionConflictError):
            store.save(ID("versions/none"), SECOND, {}, expected_version="")
        assert store.get(ID_).value == FIRST

    def test_delete_with_a_version(self, store: SecretStore) -> None:
        stale = store.save(ID_, FIRST, {})
        now = store.save(ID_, SECOND, {})
        with pytest.raises(VersionConflictError) as conflict:
            store.delete(ID_, expected_version=stale)
        assert conflict.value.found == now
        assert "nothing was removed" in str(conflict.value)
        assert contents(store) == (SECOND, {}, now)
        with pytest.raises(VersionConflictError):
            store.delete(ID_, expected_version=NO_SECRET)
        assert store.delete(ID_, expected_version=now) is True
        with pytest.raises(SecretNotFoundError):
            store.get(ID_)
        # Gone already: nothing of anyone's is lost.
        assert store.delete(ID_, expected_version=now) is False
        assert store.save(ID_, FIRST, {}, expected_version=NO_SECRET)

    # -- many writers -----------------------------------------------------------------------

    def test_of_writers_in_threads_with_one_version_exactly_one_wins(
        self, store: SecretStore
    ) -> None:
        handles = [store, *(self.twin(store) for _ in range(WRITERS - 1))]
        for round_ in range(3):
            read = store.get(ID_).version if round_ else NO_SECRET
            start = threading.Barrier(WRITERS)

            def write(
                number: int,
                read: str = read,
                start: threading.Barrier = start,
                round_: int = round_,
            ) -> str:
                start.wait()
                try:
                    # Each round writes new values: a store may keep the version of a rewrite
                    # that changes nothing (nothing is lost by letting the next write in).
                    return "won " + handles[number].save(
                        ID_,
                        b"writer-%d-%d" % (round_, number),
                        {"n": str(number)},
                        expected_version=read,
                    )
                except VersionConflictError as exc:
                    return "conflict " + exc.found

            with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                answers = list(pool.map(write, range(WRITERS)))
            self._exactly_one_won(store, answers, b"writer-%d-" % round_)
        for handle in handles[1:]:
            handle.close()

    def test_of_writer_processes_with_one_version_exactly_one_wins(
        self, store: SecretStore, spawn: Spawn
    ) -> None:
        spec = self.spec(store)
        for round_ in range(2):
            entries = [(b"process-%d-%d" % (round_, n), {"n": str(n)}) for n in range(WRITERS)]
            before = store.get(ID_).version if round_ else NO_SECRET
            read, answers = race(spawn, spec, ID_.value, entries)
            assert read == [before] * WRITERS
            self._exactly_one_won(store, answers, b"process-%d-" % round_)

    @staticmethod
    def _exactly_one_won(store: SecretStore, answers: list[str], prefix: bytes) -> None:
        """One ``won``; every other writer found the winner's version (it compared after the
        winner wrote, under the lock); the store holds the winner's value and metadata, whole."""
        won = [(n, a.removeprefix("won ")) for n, a in enumerate(answers) if a.startswith("won ")]
        assert len(won) == 1, answers
        ((number, version),) = won
        losers = [a for a in answers if not a.startswith("won ")]
        assert losers == [f"conflict {version}"] * (len(answers) - 1)
        assert contents(store) == (prefix + b"%d" % number, {"n": str(number)}, version)
