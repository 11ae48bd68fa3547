"""The proxy's domain side: a create config's references, files and recorded mapping."""

from __future__ import annotations

import json

import pytest

from docker_pass.core.docker.container import (
    REFERENCES_LABEL,
    prepare_config,
    show_references,
    wants_resolving,
)
from docker_pass.core.envelope import Envelope
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.references.resolution import RunError
from docker_pass.core.results import Resolution

VALUES = {"app/key": [b"k-value"], "app/bin": [b"\x00\x01bin"], "two/x": [b"a", b"b"]}


def resolve(pattern: Pattern) -> Resolution:
    envelopes = [
        Envelope(ID(k), v, provider=f"p{i}")
        for k, vs in VALUES.items()
        if pattern.matches(k)
        for i, v in enumerate(vs)
    ]
    return Resolution(pattern, envelopes, asked=["p0", "p1"], answered=["p0", "p1"])


def test_only_values_that_start_with_the_scheme_are_resolved() -> None:
    config = {
        "Image": "busybox",
        "Env": ["K=se://app/key", "E=x://se://app/key", "NOVALUE", "EMPTY=", "K2=se://app/key"],
    }
    assert wants_resolving(config)
    prepared = prepare_config(config, resolve)
    assert prepared.config["Env"] == [
        "K=k-value",
        "E=x://se://app/key",
        "NOVALUE",
        "EMPTY=",
        "K2=k-value",
    ]
    assert prepared.references == {"K": "se://app/key", "K2": "se://app/key"}
    assert json.loads(prepared.config["Labels"][REFERENCES_LABEL]) == prepared.references
    assert prepared.changed
    assert config["Env"][0] == "K=se://app/key"  # the caller's config is not touched
    assert "k-value" not in repr(prepared)


def test_nothing_to_resolve_changes_nothing() -> None:
    config = {"Image": "busybox", "Env": ["A=1"], "Labels": {"x": "y"}}
    assert not wants_resolving(config)
    prepared = prepare_config(config, resolve)
    assert not prepared.changed
    assert prepared.config == config


def test_a_stale_references_label_is_dropped() -> None:
    config = {"Env": ["A=1"], "Labels": {REFERENCES_LABEL: '{"A": "se://app/key"}'}}
    assert wants_resolving(config)
    prepared = prepare_config(config, resolve)
    assert prepared.changed
    assert prepared.config["Labels"] == {}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (["X=se://no/such"], "resolving X: secret not found: no/such"),
        (["W=se://app/*"], "resolving W: invalid identifier"),
        (["T=se://two/x"], "resolving T: 2 secrets matched two/x (p0, p1)"),
        (["B=se://app/bin"], "resolving B: the value of app/bin holds a NUL byte"),
    ],
)
def test_failures_name_the_variable_and_reference(env: list[str], message: str) -> None:
    with pytest.raises(RunError) as caught:
        prepare_config({"Env": env}, resolve)
    assert str(caught.value).startswith(message)
    assert "k-value" not in str(caught.value)


def test_secret_files_from_labels() -> None:
    labels = {"x-secret:app/bin": "/run/secrets/bin/", "x-secret:app/key": "/k"}
    prepared = prepare_config({"Labels": labels}, resolve)
    files = {f.path: f.value for f in prepared.files}
    assert files == {"/run/secrets/bin": b"\x00\x01bin", "/k": b"k-value"}  # NUL fine in a file
    assert "bin" not in repr(prepared.files).replace("/run/secrets/bin", "").replace("app/bin", "")
    assert not prepared.changed  # the labels stay as they are


@pytest.mark.parametrize(
    ("label", "path", "message"),
    [
        ("x-secret:app/*", "/p", "resolving label x-secret:app/*: invalid identifier"),
        ("x-secret:app/key", "rel", "resolving label x-secret:app/key: rel is not an absolute"),
        ("x-secret:app/key", "/", "resolving label x-secret:app/key: / is not an absolute"),
        ("x-secret:app/key", "/a/../b", "resolving label x-secret:app/key: /a/../b is not a plain"),
        ("x-secret:no/such", "/p", "resolving label x-secret:no/such: secret not found: no/such"),
    ],
)
def test_bad_file_labels(label: str, path: str, message: str) -> None:
    with pytest.raises(RunError) as caught:
        prepare_config({"Labels": {label: path}}, resolve)
    assert str(caught.value).startswith(message)


def test_exec_configs_get_no_labels() -> None:
    prepared = prepare_config({"Env": ["K=se://app/key"]}, resolve, labels=False)
    assert prepared.config == {"Env": ["K=k-value"]}
    assert not wants_resolving({"Labels": {"x-secret:a": "/b"}}, labels=False)


def test_malformed_configs_are_refused() -> None:
    with pytest.raises(RunError, match="Env must be a list of strings"):
        wants_resolving({"Env": "K=se://app/key"})
    with pytest.raises(RunError, match="Labels must be an object"):
        wants_resolving({"Labels": ["x"]})


def test_inspect_shows_references_for_recorded_variables_only() -> None:
    doc = {
        "Config": {
            "Env": ["K=k-value", "P=plain", "PATH=/bin"],
            "Labels": {REFERENCES_LABEL: json.dumps({"K": "se://app/key", "GONE": "se://x"})},
        }
    }
    assert show_references(doc)
    assert doc["Config"]["Env"] == ["K=se://app/key", "P=plain", "PATH=/bin"]
    assert not show_references({"Config": {"Env": ["A=1"], "Labels": {}}})
    assert not show_references({"Config": {"Env": ["A=1"], "Labels": {REFERENCES_LABEL: "{bad"}}})


LOOKUPS = {
    "GH_TOKEN": [b"gh-value"],
    "TWICE": [b"one", b"two"],
    "BLANK": [b""],
    "LATIN": [b"caf\xe9"],
}


def resolve_names(pattern: Pattern) -> Resolution:
    envelopes = [
        Envelope(ID(k), v, provider=f"p{i}")
        for k, vs in {**VALUES, **LOOKUPS}.items()
        if pattern.matches(k)
        for i, v in enumerate(vs)
    ]
    return Resolution(pattern, envelopes, asked=["p0", "p1"], answered=["p0", "p1"])


def test_an_empty_variable_takes_the_secret_named_like_it() -> None:
    env = ["GH_TOKEN=", "K=se://app/key", "PLAIN=x", "NOPE=", "TWICE=", "BLANK=", "LATIN="]
    config = {"Image": "busybox", "Env": [*env, "not*id="]}
    assert not wants_resolving({"Env": ["GH_TOKEN="]})  # off unless asked
    assert wants_resolving({"Env": ["GH_TOKEN="]}, empty_lookup=True)
    prepared = prepare_config(config, resolve_names, empty_lookup=True)
    assert prepared.config["Env"] == [
        "GH_TOKEN=gh-value",
        "K=k-value",
        "PLAIN=x",
        "NOPE=",  # no such secret: as sent
        "TWICE=",  # two plugins answer: as sent, not a guess
        "BLANK=",  # an empty secret changes nothing
        "LATIN=",  # not UTF-8 text: as sent
        "not*id=",  # no ID: never looked up
    ]
    assert prepared.references == {"GH_TOKEN": "", "K": "se://app/key"}
    statuses = {name: looked.status.value for name, looked in prepared.lookups.items()}
    assert statuses == {
        "GH_TOKEN": "resolves",
        "NOPE": "not found",
        "TWICE": "ambiguous",
        "BLANK": "resolves",
        "LATIN": "error",
    }
    assert "gh-value" not in repr(prepared)
    assert all("gh-value" not in looked.error for looked in prepared.lookups.values())


def test_a_name_alone_is_looked_up_and_recorded_as_sent() -> None:
    prepared = prepare_config({"Env": ["GH_TOKEN"]}, resolve_names, empty_lookup=True)
    assert prepared.config["Env"] == ["GH_TOKEN=gh-value"]
    assert json.loads(prepared.config["Labels"][REFERENCES_LABEL]) == {"GH_TOKEN": None}
    inspected = {"Config": {"Env": ["GH_TOKEN=gh-value"], "Labels": prepared.config["Labels"]}}
    assert show_references(inspected)
    assert inspected["Config"]["Env"] == ["GH_TOKEN"]


def test_inspect_shows_an_empty_variable_as_sent_in_both_configs() -> None:
    """An image committed from such a container carries its labels in Config and, for API
    1.41, in ContainerConfig: both show what was sent."""
    labels = {REFERENCES_LABEL: json.dumps({"GH_TOKEN": "", "K": "se://app/key"})}
    doc = {
        "Config": {"Env": ["GH_TOKEN=gh-value", "K=k-value", "P=1"], "Labels": labels},
        "ContainerConfig": {"Env": ["GH_TOKEN=gh-value"], "Labels": dict(labels)},
    }
    assert show_references(doc)
    assert doc["Config"]["Env"] == ["GH_TOKEN=", "K=se://app/key", "P=1"]
    assert doc["ContainerConfig"]["Env"] == ["GH_TOKEN="]


def test_exec_configs_look_up_too_without_a_label() -> None:
    prepared = prepare_config(
        {"Env": ["GH_TOKEN="]}, resolve_names, labels=False, empty_lookup=True
    )
    assert prepared.config["Env"] == ["GH_TOKEN=gh-value"]
    assert "Labels" not in prepared.config


def test_an_entry_with_no_name_is_refused_before_anything_resolves() -> None:
    asked: list[Pattern] = []

    def counting(pattern: Pattern) -> Resolution:
        asked.append(pattern)
        return resolve_names(pattern)

    with pytest.raises(RunError, match="no variable name") as caught:
        prepare_config({"Env": ["K=se://app/key", "=se://app/key"]}, counting)
    assert asked == []
    assert "k-value" not in str(caught.value)


def test_a_reference_whose_value_is_not_text_is_refused_naming_the_variable() -> None:
    with pytest.raises(RunError, match=r"resolving L: the value is not UTF-8 text") as caught:
        prepare_config({"Env": ["L=se://LATIN"]}, resolve_names)
    assert "caf" not in str(caught.value)
