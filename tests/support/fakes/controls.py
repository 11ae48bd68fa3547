"""The 1Password fakes put in place for a test: their switches, their call logs, and fixtures.

``op`` puts the fake ``op`` (``tests/support/fakes/op``) first on ``PATH``; ``sdk`` makes the
``1password-sdk`` plugin use the fake client (:mod:`tests.support.fakes.onepassword_sdk`)
through ``$DOCKER_PASS_OP_SDK_CLIENT``, with the file store as the keychain that holds its token.
Both serve the items of :mod:`tests.support.fakes.onepassword_data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from docker_pass.backends.onepassword.sdk_plugin import CLIENT_ENV
from tests.support.fakes import onepassword_data as data

#: The folder holding the fake ``op`` executable.
FAKES = Path(__file__).resolve().parent
#: The only service account token the fake SDK client accepts (made up).
SDK_TOKEN = "ops_fake-service-account-token"
#: ``$DOCKER_PASS_OP_SDK_CLIENT``: the fake client's stand-in for ``Client.authenticate``.
SDK_HOOK = "tests.support.fakes.onepassword_sdk:FakeClient.authenticate"


class FakeOp:
    """The fake ``op``'s switches and its call log."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.data = data.write_fixture(tmp_path / "op-items.json")
        self.calls_file = tmp_path / "op-calls.log"
        monkeypatch.setenv("FAKE_OP_DATA", str(self.data))
        monkeypatch.setenv("FAKE_OP_CALLS", str(self.calls_file))
        monkeypatch.setenv("FAKE_OP_PYTHON", sys.executable)
        monkeypatch.delenv("FAKE_OP_MODE", raising=False)
        monkeypatch.delenv("DOCKER_PASS_OP_PATH", raising=False)
        monkeypatch.setenv("PATH", f"{FAKES}:/usr/bin:/bin")

    def mode(self, mode: str | None, delay: float | None = None) -> None:
        """Switch the failure mode (``None``: answer normally); see ``fake_op.py``."""
        if mode is None:
            self.monkeypatch.delenv("FAKE_OP_MODE", raising=False)
        else:
            self.monkeypatch.setenv("FAKE_OP_MODE", mode)
        if delay is not None:
            self.monkeypatch.setenv("FAKE_OP_DELAY", str(delay))

    def calls(self) -> list[str]:
        """The arguments of every ``op`` run so far, one line each."""
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text().splitlines()

    def list_calls(self) -> int:
        """How many times the item list was read."""
        return sum(1 for line in self.calls() if line.startswith("item list"))

    def get_calls(self) -> int:
        """How many times one item was read."""
        return sum(1 for line in self.calls() if line.startswith("item get"))


@pytest.fixture
def op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeOp:
    """The fake ``op``, first on ``PATH``."""
    return FakeOp(tmp_path, monkeypatch)


class FakeSdk:
    """The fake SDK client's switches and its call log."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.data = data.write_fixture(tmp_path / "op-items.json")
        self.calls_file = tmp_path / "sdk-calls.log"
        monkeypatch.setenv("FAKE_OP_DATA", str(self.data))
        monkeypatch.setenv("FAKE_OP_SDK_CALLS", str(self.calls_file))
        monkeypatch.setenv("FAKE_OP_SDK_TOKEN", SDK_TOKEN)
        monkeypatch.delenv("FAKE_OP_SDK_MODE", raising=False)
        monkeypatch.setenv(CLIENT_ENV, SDK_HOOK)
        monkeypatch.setenv("DOCKER_PASS_STORE", "file")

    def mode(self, mode: str | None, delay: float | None = None) -> None:
        """Switch the failure mode (``None``: answer normally); see ``onepassword_sdk.py``."""
        if mode is None:
            self.monkeypatch.delenv("FAKE_OP_SDK_MODE", raising=False)
        else:
            self.monkeypatch.setenv("FAKE_OP_SDK_MODE", mode)
        if delay is not None:
            self.monkeypatch.setenv("FAKE_OP_DELAY", str(delay))

    def calls(self) -> list[str]:
        """Every call the client answered so far, one line each."""
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text().splitlines()

    def count(self, prefix: str) -> int:
        """How many calls began with ``prefix``."""
        return sum(1 for line in self.calls() if line.startswith(prefix))


@pytest.fixture
def sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSdk:
    """The fake SDK client, in place of ``onepassword.Client.authenticate``."""
    return FakeSdk(tmp_path, monkeypatch)
