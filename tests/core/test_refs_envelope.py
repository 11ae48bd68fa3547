"""se:// references and envelopes (whose repr never shows the value)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID, Envelope, InvalidIdentifierError, Pattern, SecretReference
from docker_pass.core.references.syntax import is_reference, reference_for

if TYPE_CHECKING:
    from pathlib import Path


def test_only_values_that_start_with_the_scheme_are_references() -> None:
    assert is_reference("se://docker/auth/hub/alice")
    assert not is_reference("postgres://u:se://x@h")
    assert not is_reference(" se://x")


def test_reference_parses_ids_and_patterns() -> None:
    assert SecretReference.parse("se://docker/auth/**").target == Pattern.parse("docker/auth/**")
    assert SecretReference.parse_id("se://gh-token") == ID.parse("gh-token")
    assert str(SecretReference.parse("se://a/*")) == "se://a/*"
    assert reference_for(ID.parse("a/b")) == "se://a/b"


def test_a_reference_that_must_be_an_id_rejects_wildcards() -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        SecretReference.parse_id("se://docker/auth/*")
    assert str(info.value).startswith('invalid identifier: "docker/auth/*" must match')


def test_envelope_repr_hides_the_value() -> None:
    env = Envelope(ID.parse("a/b"), b"hunter2-value", provider="docker-pass", metadata={"k": "v"})
    assert "hunter2" not in repr(env)
    assert "hunter2" not in str(env)
    assert "13 bytes hidden" in repr(env)
    assert env.info().id == ID.parse("a/b")
    assert env.info().metadata == {"k": "v"}


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    from docker_pass.core.config import write_json_atomic

    target = tmp_path / "conf" / "x.json"
    with pytest.raises(TypeError):
        write_json_atomic(target, {"not json": object()})
    assert list(target.parent.iterdir()) == []
