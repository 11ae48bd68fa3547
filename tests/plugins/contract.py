"""The contract every plugin keeps with the engine: a reusable base class of tests.

:class:`PluginContract` tests a plugin through the protocol of :mod:`docker_pass.core.plugin`,
as the engine uses it: a class constructed with no arguments, started, asked to resolve and
list (by ID and by pattern), to save and delete when it declares ``write`` and ``delete``, and
stopped; and the same plugin inside an :class:`~docker_pass.core.engine.Engine`.  No value and
no credential may show in a repr, a storage text or an error.

Every built-in plugin passes it (``tests/plugins/test_*.py``), each against its real or a
faithful backend.  A third-party plugin's author can subclass it the same way (keyring's
backend tests are the model): set :attr:`PluginContract.plugin_class`, and override the
``backend`` fixture so that ``plugin_class()`` finds a backend holding the secrets it returns
in :class:`Backend`; optionally override :meth:`PluginContract.break_backend`.  What a plugin
does not declare (writing, deleting, listing, versions) is skipped, or checked to be refused.
The versions a versioned plugin keeps are :mod:`tests.plugins.version_contract`'s.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import DockerPassError, ReadOnlyError, SecretNotFoundError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import Capability, Plugin, WritablePlugin, capabilities_of
from docker_pass.core.registry import load_plugin_class
from docker_pass.core.results import Removal
from docker_pass.core.state import RunStatus
from tests.plugins.version_contract import VersionContract

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

EVERYTHING = Pattern("**")
#: Values the contract writes: distinctive, so that finding one in a text means it leaked.
WRITTEN = b"contract-value-0f3c9a"
REWRITTEN = b"contract-value-7be214"


@dataclass(frozen=True)
class Backend:
    """What a subclass's ``backend`` fixture put in place for the plugin to find."""

    #: Secrets the backend holds, ID -> value (at least two, under the same first component).
    known: Mapping[str, bytes]
    #: Tokens and passwords the plugin uses, which must show nowhere.
    credentials: Sequence[str] = ()
    #: The subclass's own handle on the backend (for :meth:`PluginContract.break_backend`).
    controls: Any = None

    def secrets(self) -> list[bytes | str]:
        """Every value and credential: none may show in a text."""
        return [*self.known.values(), *self.credentials]


def assert_holds_none(text: str, secrets: Iterable[bytes | str], where: str) -> None:
    """``text`` (a repr, an error) holds none of ``secrets`` (values of 6 or more
    characters: shorter ones would match by chance)."""
    for secret in secrets:
        spelled = secret.decode("utf-8", "ignore") if isinstance(secret, bytes) else secret
        if len(spelled) >= 6:
            assert spelled not in text, f"{where} holds a secret"


def answer(plugin: Plugin, pattern: Pattern) -> list[Envelope]:
    """``plugin.resolve(pattern)``, with ``SecretNotFoundError`` as the empty answer it is to
    the engine."""
    try:
        return plugin.resolve(pattern)
    except SecretNotFoundError:
        return []


class PluginContract(VersionContract):
    """Shared tests; a subclass sets :attr:`plugin_class` and overrides the ``backend``
    fixture (and, if it can, :meth:`break_backend` and
    :meth:`~tests.plugins.version_contract.VersionContract.change_elsewhere`)."""

    #: The plugin's class, as its entry point names it.
    plugin_class: ClassVar[type[Any]]
    #: Whether a writable plugin holds any bytes; ``False``: text only, and it refuses others.
    binary_values: ClassVar[bool] = True
    #: The first component of every ID the contract writes or looks for in vain (a plugin
    #: that serves a narrower pattern than ``**`` sets one it serves).
    realm: ClassVar[str] = "contract"

    # -- what a subclass provides -----------------------------------------------------------

    @pytest.fixture
    def backend(self) -> Backend:
        """Put the backend in place (configuration, credentials, server, the known secrets)
        so that ``plugin_class()`` finds it; override in the subclass."""
        raise NotImplementedError("a PluginContract subclass overrides the backend fixture")

    def break_backend(self, backend: Backend) -> None:
        """Make the running plugin's backend fail (a revoked token, a signed-out tool)."""
        pytest.skip("this backend has no way to break it here")

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def plugin(self, backend: Backend) -> Iterator[Plugin]:
        """A started instance, constructed as the registry does: with no arguments."""
        instance = self.plugin_class()
        instance.start()
        try:
            yield instance
        finally:
            instance.stop()

    @pytest.fixture
    def engine(self, backend: Backend) -> Iterator[Engine]:
        """An engine holding only this plugin, enabled."""
        name = self.plugin_class.name
        engine = Engine(factories={name: self.plugin_class})
        if not engine.status(name).enabled:
            engine.enable(name)
        try:
            yield engine
        finally:
            engine.close()

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the plugin's class declares, as the engine reads it."""
        return capabilities_of(self.plugin_class)

    def require(self, capability: Capability) -> None:
        """Skip the test unless the plugin declares ``capability``."""
        if capability not in self.capabilities:
            pytest.skip(f"{self.plugin_class.name} does not declare {capability}")

    def missing_id(self) -> ID:
        """An ID the backend does not hold."""
        return ID(f"{self.realm}-missing/nothing-here")

    def written_id(self, name: str = "one") -> ID:
        """An ID the contract may write (and delete) in a writable plugin."""
        return ID(f"{self.realm}/{name}")

    @staticmethod
    def related(backend: Backend) -> tuple[Pattern, set[str]]:
        """A pattern over the first known ID's first component, and the known IDs it matches."""
        head = next(iter(backend.known)).split("/")[0]
        pattern = Pattern(f"{head}/**")
        return pattern, {i for i in backend.known if pattern.matches(i)}

    # -- what it declares -------------------------------------------------------------------

    def test_declares_name_version_pattern_and_flags(self) -> None:
        cls = self.plugin_class
        assert isinstance(cls.name, str)
        assert cls.name
        assert isinstance(cls.version, str)
        assert cls.version
        assert isinstance(cls.pattern, Pattern)
        assert isinstance(cls.configurable, bool)
        assert isinstance(getattr(cls, "enabled_by_default", False), bool)
        assert Capability.READ in self.capabilities  # the engine may always ask it to resolve

    def test_the_registry_finds_it_by_its_name(self) -> None:
        assert load_plugin_class(self.plugin_class.name) is self.plugin_class

    def test_a_started_plugin_keeps_the_protocol(self, plugin: Plugin) -> None:
        assert isinstance(plugin, Plugin)
        if {Capability.WRITE, Capability.DELETE} & self.capabilities:
            assert isinstance(plugin, WritablePlugin)

    # -- its life ---------------------------------------------------------------------------

    def test_storage_is_text(self, plugin: Plugin) -> None:
        assert isinstance(plugin.storage(), str)

    def test_stop_twice_is_harmless(self, plugin: Plugin) -> None:
        plugin.stop()
        plugin.stop()

    def test_a_fresh_instance_answers_after_another_stopped(
        self, plugin: Plugin, backend: Backend
    ) -> None:
        plugin.stop()
        raw_id, value = next(iter(backend.known.items()))
        fresh = self.plugin_class()
        fresh.start()
        try:
            assert [e.value for e in fresh.resolve(Pattern(raw_id))] == [value]
        finally:
            fresh.stop()

    # -- reading ----------------------------------------------------------------------------

    def test_resolves_each_known_id_to_its_value(self, plugin: Plugin, backend: Backend) -> None:
        for raw_id, value in backend.known.items():
            (envelope,) = plugin.resolve(Pattern(raw_id))
            assert isinstance(envelope, Envelope)
            assert (envelope.id, envelope.value) == (ID(raw_id), value)
            assert envelope.provider in ("", self.plugin_class.name)

    def test_resolves_a_pattern_to_its_matches_only(self, plugin: Plugin, backend: Backend) -> None:
        pattern, expected = self.related(backend)
        found = plugin.resolve(pattern)
        assert all(pattern.matches(e.id) for e in found)
        values = {e.id.value: e.value for e in found}
        assert {i: values.get(i) for i in expected} == {i: backend.known[i] for i in expected}
        everything = {e.id.value: e.value for e in plugin.resolve(EVERYTHING)}
        assert {i: everything.get(i) for i in backend.known} == dict(backend.known)

    def test_an_unknown_id_is_a_miss(self, plugin: Plugin) -> None:
        assert answer(plugin, Pattern(self.missing_id().value)) == []
        if isinstance(plugin, WritablePlugin):
            with pytest.raises(SecretNotFoundError):
                plugin.get(self.missing_id())

    def test_a_pattern_matching_nothing_is_empty(self, plugin: Plugin) -> None:
        assert answer(plugin, Pattern(f"{self.realm}-missing/**")) == []

    def test_get_reads_one_secret(self, plugin: Plugin, backend: Backend) -> None:
        if not isinstance(plugin, WritablePlugin):
            pytest.skip(f"{self.plugin_class.name} has no get: the engine resolves the ID")
        for raw_id, value in backend.known.items():
            envelope = plugin.get(ID(raw_id))
            assert (envelope.id, envelope.value) == (ID(raw_id), value)

    # -- listing ----------------------------------------------------------------------------

    def test_lists_known_ids_without_values(self, plugin: Plugin, backend: Backend) -> None:
        self.require(Capability.LIST)
        infos = plugin.list(EVERYTHING)
        assert all(isinstance(i, SecretInfo) for i in infos)
        assert {i.provider for i in infos} <= {"", self.plugin_class.name}
        assert set(backend.known) <= {i.id.value for i in infos}
        for info in infos:
            assert not hasattr(info, "value")
            assert_holds_none(repr(info), backend.known.values(), "a listed entry")

    def test_lists_by_pattern_only_its_matches(self, plugin: Plugin, backend: Backend) -> None:
        self.require(Capability.LIST)
        pattern, expected = self.related(backend)
        listed = {i.id.value for i in plugin.list(pattern)}
        assert expected <= listed
        assert all(pattern.matches(i) for i in listed)
        assert plugin.list(Pattern(f"{self.realm}-missing/**")) == []

    def test_lists_an_exact_id_only_when_it_exists(self, plugin: Plugin, backend: Backend) -> None:
        # The engine's save asks so whether it replaces a secret.
        self.require(Capability.LIST)
        raw_id = next(iter(backend.known))
        assert [i.id.value for i in plugin.list(Pattern(raw_id))] == [raw_id]
        assert plugin.list(Pattern(self.missing_id().value)) == []

    def test_the_engine_refuses_to_list_a_plugin_that_cannot(self, engine: Engine) -> None:
        if Capability.LIST in self.capabilities:
            pytest.skip(f"{self.plugin_class.name} lists")
        with pytest.raises(DockerPassError, match="cannot list"):
            engine.list_secrets(EVERYTHING, plugin=self.plugin_class.name)

    # -- writing and deleting ---------------------------------------------------------------

    def test_a_saved_secret_reads_back_everywhere(self, plugin: Plugin) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id()
        plugin.save(id_, WRITTEN, {})
        assert plugin.get(id_).value == WRITTEN
        assert [e.value for e in plugin.resolve(Pattern(id_.value))] == [WRITTEN]
        assert WRITTEN in [e.value for e in plugin.resolve(Pattern(f"{self.realm}/**"))]
        if Capability.LIST in self.capabilities:
            assert [i.id for i in plugin.list(Pattern(id_.value))] == [id_]
            assert id_ in [i.id for i in plugin.list(EVERYTHING)]

    def test_a_second_save_replaces_the_first(self, plugin: Plugin) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id()
        plugin.save(id_, WRITTEN, {})
        plugin.save(id_, REWRITTEN, {})
        assert plugin.get(id_).value == REWRITTEN
        assert [e.value for e in plugin.resolve(Pattern(id_.value))] == [REWRITTEN]
        if Capability.LIST in self.capabilities:
            assert [i.id for i in plugin.list(Pattern(f"{self.realm}/**"))] == [id_]

    def test_metadata_round_trips(self, plugin: Plugin) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id()
        metadata = {"owner": "alice", "env": "prod", "a.b_c-d": "x=y ☃"}
        plugin.save(id_, WRITTEN, metadata)
        assert dict(plugin.get(id_).metadata) == metadata
        (envelope,) = plugin.resolve(Pattern(id_.value))
        assert dict(envelope.metadata) == metadata

    @pytest.mark.parametrize(
        "value", [b"", "päss wörd ☃ 🔑".encode(), b"line one\nline two\n", b" padded "]
    )
    def test_text_values_round_trip(self, plugin: Plugin, value: bytes) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id("text")
        plugin.save(id_, value, {})
        assert plugin.get(id_).value == value

    def test_ids_with_every_allowed_character_round_trip(self, plugin: Plugin) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        ids = [self.written_id(n) for n in ("host:5000/token", "A.b_c-d/UPPER", "x" * 100)]
        for number, id_ in enumerate(ids):
            plugin.save(id_, b"%d" % number, {})
        for number, id_ in enumerate(ids):
            assert plugin.get(id_).value == b"%d" % number

    def test_bytes_round_trip_or_are_refused_unsaid(self, plugin: Plugin) -> None:
        self.require(Capability.WRITE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id("binary")
        value = bytes(range(256)) + b"contract-binary-\xff"
        if self.binary_values:
            plugin.save(id_, value, {})
            assert plugin.get(id_).value == value
            return
        with pytest.raises(DockerPassError) as refused:
            plugin.save(id_, value, {})
        assert_holds_none(str(refused.value), [value, repr(value)], "the refusal")
        with pytest.raises(SecretNotFoundError):
            plugin.get(id_)

    def test_delete_removes_everywhere_then_reports_missing(self, plugin: Plugin) -> None:
        self.require(Capability.DELETE)
        assert isinstance(plugin, WritablePlugin)
        id_ = self.written_id()
        plugin.save(id_, WRITTEN, {})
        assert plugin.delete(id_) is True
        with pytest.raises(SecretNotFoundError):
            plugin.get(id_)
        assert answer(plugin, Pattern(id_.value)) == []
        if Capability.LIST in self.capabilities:
            assert plugin.list(Pattern(id_.value)) == []
        assert plugin.delete(id_) is False
        assert plugin.delete(self.missing_id()) is False

    def test_the_engine_saves_and_removes_through_it(self, engine: Engine) -> None:
        self.require(Capability.WRITE)
        name = self.plugin_class.name
        id_ = self.written_id()
        assert engine.save(id_, WRITTEN, {}, plugin=name).replaced is False
        assert engine.save(id_, REWRITTEN, {}, plugin=name).replaced is True
        assert engine.get(id_, plugin=name).value == REWRITTEN
        if Capability.DELETE in self.capabilities:
            removal = engine.remove([id_, self.missing_id()], plugin=name)
            assert removal.outcomes == (
                (id_, Removal.REMOVED),
                (self.missing_id(), Removal.MISSING),
            )

    def test_a_read_only_plugin_refuses_writes_through_the_engine(
        self, engine: Engine, backend: Backend
    ) -> None:
        if Capability.WRITE in self.capabilities:
            pytest.skip(f"{self.plugin_class.name} writes")
        name = self.plugin_class.name
        raw_id = next(iter(backend.known))
        with pytest.raises(ReadOnlyError) as refused:
            engine.save(ID(raw_id), WRITTEN, {}, plugin=name)
        assert name in str(refused.value)
        assert_holds_none(str(refused.value), [WRITTEN], "the refusal")
        if Capability.DELETE not in self.capabilities:
            with pytest.raises(ReadOnlyError):
                engine.remove([ID(raw_id)], plugin=name)
        assert engine.get(ID(raw_id), plugin=name).value == backend.known[raw_id]

    # -- inside the engine ------------------------------------------------------------------

    def test_the_engine_resolves_and_stamps_its_name(
        self, engine: Engine, backend: Backend
    ) -> None:
        name = self.plugin_class.name
        for raw_id, value in backend.known.items():
            resolution = engine.resolve(Pattern(raw_id))
            assert resolution.errors == {}
            assert [(e.id.value, e.value, e.provider) for e in resolution.envelopes] == [
                (raw_id, value, name)
            ]
            assert engine.get(ID(raw_id), plugin=name).value == value

    def test_the_engine_runs_it_and_shows_what_it_declares(
        self, engine: Engine, backend: Backend
    ) -> None:
        cls = self.plugin_class
        (status,) = engine.plugins()
        assert (status.name, status.status, status.message) == (cls.name, RunStatus.RUNNING, "")
        assert (status.version, status.pattern) == (cls.version, cls.pattern.value)
        assert (status.configurable, status.enabled) == (cls.configurable, True)
        assert status.capabilities == self.capabilities
        assert_holds_none(status.storage, backend.secrets(), "the storage shown")

    def test_the_engine_lists_it(self, engine: Engine, backend: Backend) -> None:
        self.require(Capability.LIST)
        name = self.plugin_class.name
        listing = engine.list_secrets(EVERYTHING, plugin=name)
        assert listing.errors == {}
        assert set(backend.known) <= {i.id.value for i in listing.infos}
        assert {i.provider for i in listing.infos} == {name}

    def test_a_concurrent_plugin_answers_from_several_threads(
        self, plugin: Plugin, backend: Backend
    ) -> None:
        if not getattr(self.plugin_class, "concurrent", False):
            pytest.skip(f"{self.plugin_class.name} is called one call at a time")
        asked = list(backend.known.items()) * 4

        def resolve(item: tuple[str, bytes]) -> list[bytes]:
            return [e.value for e in plugin.resolve(Pattern(item[0]))]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(resolve, asked))
        assert answers == [[value] for _, value in asked]

    # -- what never shows -------------------------------------------------------------------

    def test_reprs_and_errors_hold_no_value_nor_credential(
        self, plugin: Plugin, backend: Backend, engine: Engine
    ) -> None:
        secrets = backend.secrets()
        texts = {"the plugin's repr": repr(plugin), "its storage": plugin.storage()}
        for envelope in plugin.resolve(EVERYTHING):
            texts[f"the envelope of {envelope.id.value}"] = f"{envelope!r} {envelope!s}"
        if Capability.LIST in self.capabilities:
            texts["its listing"] = repr(plugin.list(EVERYTHING))
        texts["a resolution"] = repr(engine.resolve(EVERYTHING))
        if isinstance(plugin, WritablePlugin):
            with pytest.raises(SecretNotFoundError) as missing:
                plugin.get(self.missing_id())
            texts["a miss"] = str(missing.value)
        for where, text in texts.items():
            assert_holds_none(text, secrets, where)

    def test_a_broken_backend_fails_with_our_error_holding_no_secret(
        self, plugin: Plugin, backend: Backend
    ) -> None:
        raw_id = next(iter(backend.known))
        plugin.resolve(Pattern(raw_id))  # it answered before
        self.break_backend(backend)
        with pytest.raises(DockerPassError) as failed:
            plugin.resolve(EVERYTHING)
        secrets = backend.secrets()
        assert_holds_none(str(failed.value), secrets, "the error")
        assert_holds_none(repr(plugin), secrets, "the plugin's repr")
        assert_holds_none(plugin.storage(), secrets, "its storage")
