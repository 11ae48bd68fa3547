"""The Secret Service store against a real gnome-keyring on a private D-Bus session bus.

Interoperability is checked with libsecret's own client, ``secret-tool``, in both directions:
items written by this store are the ones Docker's tool and libsecret read, and the other way round.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain.secretservice import (
    WRITER_LOCK_NAME,
    SecretServiceStore,
    secret_service_available,
    writer_lock_dir,
)
from docker_pass.core import ID, Pattern
from docker_pass.core.errors import (
    PromptDismissedError,
    StoreError,
    StoreUnavailableError,
    UnsafePathError,
)
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, SecretStore, item_label, xdg_path
from tests.backends.contract import StoreContract
from tests.support.keyring_session import (
    LOGIN_COLLECTION,
    PrivateBus,
    name_has_owner,
    require_keyring_tools,
    start_bus,
    start_keyring_session,
)
from tests.support.other_user import make_as_other_user

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    Spawn = Callable[..., subprocess.Popen[bytes]]

pytestmark = pytest.mark.integration

# Short, so a test that should not hang fails fast if it does; the real default is 120 s.
PROMPT_TIMEOUT = 10.0
DOCKER_ATTRIBUTES = ("service:group", SERVICE_GROUP, "service:name", SERVICE_NAME)


@pytest.fixture
def store(keyring_address: str) -> Iterator[SecretServiceStore]:
    """A store on the shared private keyring, which holds no docker-pass item at the start."""
    store = SecretServiceStore(keyring_address, prompt_timeout=PROMPT_TIMEOUT)
    yield store
    store.close()


@pytest.fixture
def own_keyring(tmp_path: Path) -> Iterator[PrivateBus]:
    """A keyring session of this test's own, for tests that lock it or otherwise spoil it."""
    require_keyring_tools()
    bus = start_keyring_session(tmp_path / "keyring")
    yield bus
    bus.stop()


def secret_tool(
    bus: PrivateBus, *args: str, value: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run libsecret's ``secret-tool`` against ``bus`` (values go through stdin, never argv)."""
    return subprocess.run(
        ["secret-tool", *args],
        input=value,
        env=bus.client_env(),
        capture_output=True,
        timeout=30,
        check=True,
    )


def items_of(bus: PrivateBus, id_: str) -> list[dict[str, str]]:
    """What ``secret-tool search --all`` shows of the items with docker-pass attributes and ``id_``.

    Each item as its ``label``/``secret`` lines (stdout); attributes go to stderr and are
    not needed here.
    """
    out = secret_tool(bus, "search", "--all", *DOCKER_ATTRIBUTES, "id", id_).stdout.decode()
    items: list[dict[str, str]] = []
    for line in out.splitlines():
        if line.startswith("[/"):
            items.append({"path": line.strip("[]")})
        elif " = " in line and items:
            key, _, text = line.partition(" = ")
            items[-1][key] = text
    return items


def activatable_names(bus: PrivateBus) -> str:
    """The bus's ``ListActivatableNames`` answer, as ``dbus-send`` prints it."""
    return subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListActivatableNames",
        ],
        env=bus.client_env(),
        capture_output=True,
        timeout=10,
        check=True,
    ).stdout.decode()


def lock_login_collection(bus: PrivateBus) -> None:
    """Lock the login collection through the Secret Service API (``dbus-send``, not our code)."""
    subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            f"array:objpath:{LOGIN_COLLECTION}",
        ],
        env=bus.client_env(),
        capture_output=True,
        timeout=10,
        check=True,
    )


class TestSecretServiceStore(StoreContract):
    """The shared store contract, on gnome-keyring."""

    def value_reads(self, store: SecretStore) -> int:
        assert isinstance(store, SecretServiceStore)
        return store.values_read

    def twin(self, store: SecretStore) -> SecretStore:
        return SecretServiceStore(os.environ["DBUS_SESSION_BUS_ADDRESS"])

    def spec(self, store: SecretStore) -> dict[str, str]:
        return {"kind": "secret-service", "address": os.environ["DBUS_SESSION_BUS_ADDRESS"]}


class TestDockerCompatibility:
    """Items are exactly the ones Docker's tool (and libsecret) write and read."""

    def test_secret_tool_reads_what_we_store(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        store.save(ID.parse("docker/auth/hub/alice"), b"s3cr3t value", {"env": "prod"})
        looked_up = secret_tool(
            keyring_bus, "lookup", *DOCKER_ATTRIBUTES, "id", "docker/auth/hub/alice"
        )
        assert looked_up.stdout == b"s3cr3t value"
        # The metadata attribute is there under Docker's name, so a search by it finds the item.
        by_metadata = secret_tool(keyring_bus, "lookup", *DOCKER_ATTRIBUTES, "x_env", "prod")
        assert by_metadata.stdout == b"s3cr3t value"

    def test_label_is_dockers_item_label(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        id_ = ID.parse("host:5000/token")
        store.save(id_, b"t", {})
        (item,) = items_of(keyring_bus, id_.value)
        assert (
            item["label"]
            == item_label(id_)
            == "com.docker.docker-pass:docker-pass-cli:host:5000/token"
        )

    def test_we_read_what_secret_tool_stores(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        # secret-tool adds xdg:schema=org.freedesktop.Secret.Generic, which is not metadata.
        secret_tool(
            keyring_bus,
            "store",
            "--label=made by secret-tool",
            *DOCKER_ATTRIBUTES,
            "id",
            "from/libsecret",
            "x_env",
            "prod",
            value=b"libsecret value",
        )
        (info,) = store.list(Pattern.parse("**"))
        assert info.id == ID.parse("from/libsecret")
        assert dict(info.metadata) == {"env": "prod"}
        envelope = store.get(ID.parse("from/libsecret"))
        assert envelope.value == b"libsecret value"
        assert dict(envelope.metadata) == {"env": "prod"}
        (resolved,) = store.resolve(Pattern.parse("from/*"))
        assert resolved.value == b"libsecret value"

    def test_items_without_a_valid_id_are_skipped(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        secret_tool(keyring_bus, "store", "--label=no id", *DOCKER_ATTRIBUTES, value=b"x")
        secret_tool(
            keyring_bus, "store", "--label=bad id", *DOCKER_ATTRIBUTES, "id", "a//b", value=b"x"
        )
        store.save(ID.parse("good"), b"v", {})
        assert [info.id.value for info in store.list(Pattern.parse("**"))] == ["good"]
        assert [env.id.value for env in store.resolve(Pattern.parse("**"))] == ["good"]

    def test_overwrite_leaves_exactly_one_item(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        id_ = ID.parse("dup/one")
        store.save(id_, b"first", {"v": "1"})
        store.save(id_, b"second", {"v": "1"})  # same attributes: gnome-keyring replaces
        store.save(id_, b"third", {"v": "2"})  # new attributes: we remove the old item
        (item,) = items_of(keyring_bus, id_.value)
        assert item["secret"] == "third"

    def test_save_replaces_duplicates_made_by_another_tool(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        for label in ("copy 1", "copy 2"):
            secret_tool(
                keyring_bus,
                "store",
                f"--label={label}",
                *DOCKER_ATTRIBUTES,
                "id",
                "twice",
                "x_copy",
                label,
                value=b"old",
            )
        assert len(items_of(keyring_bus, "twice")) == 2
        store.save(ID.parse("twice"), b"new", {})
        (item,) = items_of(keyring_bus, "twice")
        assert item["secret"] == "new"
        assert item["label"] == item_label(ID.parse("twice"))

    def test_delete_removes_every_copy(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        for label in ("copy 1", "copy 2"):
            secret_tool(
                keyring_bus,
                "store",
                f"--label={label}",
                *DOCKER_ATTRIBUTES,
                "id",
                "twice",
                "x_copy",
                label,
                value=b"old",
            )
        assert store.delete(ID.parse("twice")) is True
        assert items_of(keyring_bus, "twice") == []

    def test_other_applications_items_are_not_listed(
        self, store: SecretServiceStore, keyring_bus: PrivateBus
    ) -> None:
        secret_tool(
            keyring_bus, "store", "--label=other", "service", "elsewhere", "id", "x", value=b"o"
        )
        try:
            assert store.list(Pattern.parse("**")) == []
        finally:
            secret_tool(keyring_bus, "clear", "service", "elsewhere")


class TestSecretServiceBehaviour:
    """What this store adds to the contract: pipelining, counting, naming, hygiene."""

    def test_list_of_more_items_than_one_pipeline_window(self, store: SecretServiceStore) -> None:
        ids = [f"many/{i:03d}" for i in range(150)]
        for raw in ids:
            store.save(ID.parse(raw), raw.encode(), {"n": raw[-3:]})
        before = store.values_read
        infos = store.list(Pattern.parse("many/*"))
        assert [info.id.value for info in infos] == ids
        assert [info.metadata["n"] for info in infos] == [raw[-3:] for raw in ids]
        assert store.values_read == before
        envelopes = store.resolve(Pattern.parse("many/**"))
        assert [env.value for env in envelopes] == [raw.encode() for raw in ids]
        assert store.values_read == before + len(ids)

    def test_location_names_the_login_collection(self, store: SecretServiceStore) -> None:
        assert store.location() == f"Secret Service collection 'Login' ({LOGIN_COLLECTION})"

    def test_reprs_and_errors_hold_no_value(self, store: SecretServiceStore) -> None:
        store.save(ID.parse("hidden"), b"TOPSECRET-VALUE", {})
        envelope = store.get(ID.parse("hidden"))
        assert "TOPSECRET" not in repr(envelope)
        assert "TOPSECRET" not in repr(store)

    def test_store_reconnects_after_close(self, store: SecretServiceStore) -> None:
        store.save(ID.parse("again"), b"1", {})
        store.close()
        assert store.get(ID.parse("again")).value == b"1"

    def test_default_alias_is_used_without_a_login_collection(self, tmp_path: Path) -> None:
        require_keyring_tools()
        # An empty unlock password makes gnome-keyring create no login collection.
        bus = start_keyring_session(tmp_path / "keyring", password="")
        try:
            store = SecretServiceStore(bus.address)
            with pytest.raises(StoreError, match="no default collection"):
                store.list(Pattern.parse("**"))
            store.close()
            subprocess.run(
                [
                    "dbus-send",
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.SetAlias",
                    "string:default",
                    "objpath:/org/freedesktop/secrets/collection/session",
                ],
                env=bus.client_env(),
                capture_output=True,
                timeout=10,
                check=True,
            )
            store = SecretServiceStore(bus.address)
            store.save(ID.parse("in/session"), b"v", {})
            assert store.get(ID.parse("in/session")).value == b"v"
            assert store.location().endswith("(/org/freedesktop/secrets/collection/session)")
            store.close()
        finally:
            bus.stop()


class TestLockedCollection:
    """Unlock prompts: dismissed or unanswered, they raise instead of hanging."""

    def test_dismissed_unlock_prompt_raises(self, own_keyring: PrivateBus) -> None:
        store = SecretServiceStore(own_keyring.address, prompt_timeout=PROMPT_TIMEOUT)
        store.save(ID.parse("locked/away"), b"TOPSECRET-VALUE", {})
        lock_login_collection(own_keyring)
        # There is no display, so gnome-keyring's prompter cannot ask and the prompt completes
        # dismissed.
        started = time.monotonic()
        with pytest.raises(PromptDismissedError, match="the keyring unlock prompt was dismissed"):
            store.get(ID.parse("locked/away"))
        assert time.monotonic() - started < PROMPT_TIMEOUT
        with pytest.raises(PromptDismissedError) as raised:
            store.save(ID.parse("locked/away"), b"TOPSECRET-VALUE", {})
        assert "TOPSECRET" not in str(raised.value)
        with pytest.raises(PromptDismissedError):
            store.list(Pattern.parse("**"))
        store.close()

    def test_unanswered_unlock_prompt_times_out(self, tmp_path: Path) -> None:
        require_keyring_tools()
        # A prompter that the bus starts but that never comes up: gnome-keyring waits for it,
        # so only our own time limit ends the wait.
        sleep = shutil.which("sleep") or "/bin/sleep"
        never_answers = "[D-BUS Service]\nName=org.gnome.keyring.{}\nExec=" + sleep + " 60\n"
        bus = start_keyring_session(
            tmp_path / "keyring",
            service_files={
                f"org.gnome.keyring.{name}.service": never_answers.format(name)
                for name in ("SystemPrompter", "PrivatePrompter")
            },
        )
        try:
            store = SecretServiceStore(bus.address, prompt_timeout=1.0)
            store.save(ID.parse("x"), b"v", {})
            lock_login_collection(bus)
            started = time.monotonic()
            with pytest.raises(PromptDismissedError, match="got no answer within 1 s"):
                store.get(ID.parse("x"))
            assert time.monotonic() - started < 5
            store.close()
        finally:
            bus.stop()


class TestAvailability:
    """The probe is quick, starts nothing, and says why when the answer is no."""

    def test_available_on_the_private_keyring(self, keyring_address: str) -> None:
        available, reason = secret_service_available()
        assert available, reason

    def test_unset_bus_address(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
        available, reason = secret_service_available()
        assert not available
        assert "DBUS_SESSION_BUS_ADDRESS" in reason

    def test_unreachable_bus_is_quick(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no/such/bus")
        started = time.monotonic()
        available, reason = secret_service_available()
        assert time.monotonic() - started < 3
        assert not available
        assert "cannot reach the session bus" in reason

    def test_unsupported_bus_address(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "tcp:host=localhost,port=1")
        available, reason = secret_service_available()
        assert not available
        assert "tcp:host=localhost" in reason

    def test_bus_without_a_secret_service(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require_keyring_tools()
        bus = start_bus(tmp_path / "bare")
        try:
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
            started = time.monotonic()
            available, reason = secret_service_available()
            assert time.monotonic() - started < 3
            assert not available
            assert "has no owner" in reason
            # gnome-keyring is activatable on this bus; asking must not have started it.
            assert "org.freedesktop.secrets" in activatable_names(bus)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                assert not name_has_owner(bus, "org.freedesktop.secrets")
        finally:
            bus.stop()

    def test_store_on_an_unreachable_bus_is_unavailable(self, tmp_path: Path) -> None:
        store = SecretServiceStore(f"unix:path={tmp_path}/no/such/bus")
        with pytest.raises(StoreUnavailableError, match="cannot reach the session bus"):
            store.get(ID.parse("x"))

    def test_store_where_the_service_cannot_start_is_unavailable(self, tmp_path: Path) -> None:
        require_keyring_tools()
        broken = "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/false\n"
        bus = start_bus(
            tmp_path / "broken", service_files={"org.freedesktop.secrets.service": broken}
        )
        try:
            store = SecretServiceStore(bus.address)
            with pytest.raises(StoreUnavailableError, match="no Secret Service answers"):
                store.list(Pattern.parse("**"))
            store.close()
        finally:
            bus.stop()


# -- writers in many processes ------------------------------------------------------------------

# One writer process: it runs the real CLI (``docker-pass set``, in-process so that every writer
# can be held at the start line), saving one ID with a value and metadata of its own each round.
RACING_WRITER = """
import sys
from docker_pass.cli.main import main

writer, rounds = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # the start signal: every writer goes at once
for r in range(rounds):
    code = main(
        ["set", f"race/one=value-{writer}-{r}", "--metadata", f"writer={writer}",
         "--metadata", f"round={r}"]
    )
    if code != 0:
        sys.exit(code)
"""


def attributes_of_only_item(bus: PrivateBus, id_: str) -> dict[str, str]:
    """The attributes ``secret-tool search --all`` prints (on stderr) for the one item of
    ``id_``."""
    err = secret_tool(bus, "search", "--all", *DOCKER_ATTRIBUTES, "id", id_).stderr.decode()
    found: dict[str, str] = {}
    for line in err.splitlines():
        key, sep, text = line.partition(" = ")
        if sep and key.startswith("attribute."):
            found[key.removeprefix("attribute.")] = text
    return found


class TestConcurrentWriters:
    """Concurrent ``set`` of one ID from many processes leaves exactly one item."""

    @pytest.mark.parametrize("writers", [8, 20])
    @pytest.mark.parametrize("runtime_dir", [True, False], ids=["runtime-dir", "state-dir"])
    def test_racing_writers_leave_one_whole_item(
        self,
        keyring_address: str,
        keyring_bus: PrivateBus,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        writers: int,
        runtime_dir: bool,
        spawn: Spawn,
    ) -> None:
        """Each writer's metadata differs, so gnome-keyring's replace-in-place cannot merge
        their items: only the writer lock keeps a second search from missing the first item."""
        if runtime_dir:
            run = tmp_path / "run"
            run.mkdir(mode=0o700)
            monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
            lock_dir = run / "docker-pass"
        else:
            lock_dir = Path(xdg_path("state"))
        monkeypatch.setenv("DOCKER_PASS_STORE", "secret-service")
        rounds = 2
        procs = [
            spawn(
                [sys.executable, "-c", RACING_WRITER, str(n), str(rounds)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for n in range(writers)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                assert proc.stdout.readline() == b"ready\n"
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                proc.stdin.close()
            outcomes = [(proc.wait(timeout=120), proc.stderr) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for code, stderr in outcomes:
            assert stderr is not None
            assert code == 0, stderr.read()
            stderr.close()
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.close()
        items = items_of(keyring_bus, "race/one")
        assert len(items) == 1, f"{len(items)} items of race/one"
        (item,) = items
        attributes = attributes_of_only_item(keyring_bus, "race/one")
        writer, round_ = attributes["x_writer"], attributes["x_round"]
        assert 0 <= int(writer) < writers
        assert 0 <= int(round_) < rounds
        # Value and metadata are one writer's pair, written together.
        assert item["secret"] == f"value-{writer}-{round_}"
        assert item["label"] == item_label(ID.parse("race/one"))
        assert {p.name for p in lock_dir.iterdir()} >= {WRITER_LOCK_NAME}
        assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((lock_dir / WRITER_LOCK_NAME).stat().st_mode) == 0o600


class TestWriterLockPlace:
    """Where the writer lock lives, and that it is no trap either."""

    def test_our_runtime_dir_is_preferred(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run = tmp_path / "run"
        run.mkdir(mode=0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
        assert writer_lock_dir() == str(run / "docker-pass")

    @pytest.mark.parametrize("value", [None, "", "relative/run", "/no/such/runtime/dir"])
    def test_otherwise_the_state_dir(
        self, monkeypatch: pytest.MonkeyPatch, value: str | None
    ) -> None:
        if value is None:
            monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
        else:
            monkeypatch.setenv("XDG_RUNTIME_DIR", value)
        assert writer_lock_dir() == xdg_path("state")

    def test_a_runtime_dir_of_another_user_is_not_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run = make_as_other_user(tmp_path / "run", directory=True)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
        assert writer_lock_dir() == xdg_path("state")

    def test_a_symlinked_lock_file_is_refused(
        self, store: SecretServiceStore, keyring_bus: PrivateBus, tmp_path: Path
    ) -> None:
        lock_dir = Path(writer_lock_dir())
        lock_dir.mkdir(mode=0o700, parents=True)
        elsewhere = tmp_path / "elsewhere"
        (lock_dir / WRITER_LOCK_NAME).symlink_to(elsewhere)
        with pytest.raises(UnsafePathError, match=r"writer lock: .* is a symbolic link"):
            store.save(ID.parse("locked/out"), b"v", {})
        with pytest.raises(UnsafePathError, match="is a symbolic link"):
            store.delete(ID.parse("locked/out"))
        assert items_of(keyring_bus, "locked/out") == []
        assert not elsewhere.exists()

    def test_an_open_lock_dir_is_tightened_with_a_warning(
        self, store: SecretServiceStore, capsys: pytest.CaptureFixture[str]
    ) -> None:
        lock_dir = Path(writer_lock_dir())
        lock_dir.mkdir(parents=True)
        lock_dir.chmod(0o755)
        store.save(ID.parse("a"), b"v", {})
        assert capsys.readouterr().err == (
            f"Warning: {lock_dir} was open to other users (mode 0755); made it 0700\n"
        )
        assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700
        assert store.get(ID.parse("a")).value == b"v"


class TestEnvelopeTimes:
    """The Secret Service says when an item was created: envelopes carry it."""

    def test_get_and_resolve_carry_the_items_creation_time(self, store: SecretServiceStore) -> None:
        from datetime import UTC, datetime, timedelta

        before = datetime.now(UTC) - timedelta(seconds=5)
        store.save(ID("times/a"), b"value-a", {})
        store.save(ID("times/b"), b"value-b", {})
        got = store.get(ID("times/a"))
        assert got.created_at is not None
        assert before <= got.created_at <= datetime.now(UTC) + timedelta(seconds=5)
        resolved = store.resolve(Pattern("times/*"))
        assert [e.id.value for e in resolved] == ["times/a", "times/b"]
        assert all(e.created_at is not None and e.created_at >= before for e in resolved)
