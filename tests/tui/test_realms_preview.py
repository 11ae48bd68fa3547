"""The realm index and the pattern preview: plain functions, no app."""

from __future__ import annotations

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.results import PluginStatus
from docker_pass.tui.model.preview import compute_preview, route, validate_pattern
from docker_pass.tui.model.realms import RealmIndex


def infos(*ids: str, provider: str = "docker-pass") -> list[SecretInfo]:
    return [SecretInfo(ID(i), provider) for i in ids]


def status(
    name: str, pattern: str = "**", state: str = "running", enabled: bool = True
) -> PluginStatus:
    return PluginStatus(
        name=name, version="1", status=state, configurable=True, enabled=enabled, pattern=pattern
    )


INDEX = RealmIndex(
    infos(
        "docker/auth/hub/alice",
        "docker/auth/hub/bob",
        "docker/auth",
        "docker/auth-z/x",
        "docker/mcp/oauth/github",
        "gh/ci/token",
        "token",
    )
)


def test_children_group_by_component_with_counts() -> None:
    realms, leaves = INDEX.children("")
    assert [(r.name, r.count) for r in realms] == [("docker", 5), ("gh", 1)]
    assert [i.id.value for i in leaves] == ["token"]
    realms, leaves = INDEX.children("docker")
    # "auth" is both a realm and a secret; "auth-z" sorts between them and is kept apart.
    assert [(r.path, r.count) for r in realms] == [
        ("docker/auth", 2),
        ("docker/auth-z", 1),
        ("docker/mcp", 1),
    ]
    assert [i.id.value for i in leaves] == ["docker/auth"]
    assert INDEX.count("docker/auth") == 2
    assert INDEX.count("nothing") == 0


def test_realm_paths_are_breadth_first_and_limited() -> None:
    assert INDEX.realm_paths(1, 10) == ["docker", "gh"]
    assert INDEX.realm_paths(2, 3) == ["docker", "gh", "docker/auth"]


def test_find_with_entry_and_without() -> None:
    assert INDEX.find("gh/ci/token") is not None
    assert INDEX.find("gh/ci/token", "1password-cli") is None
    added = INDEX.with_entry(SecretInfo(ID("a/new"), "docker-pass"))
    assert added.ids[0] == "a/new"
    assert len(added) == len(INDEX) + 1
    removed = added.without(SecretInfo(ID("token"), "docker-pass"))
    assert "token" not in removed.ids
    assert len(removed) == len(INDEX)


def test_preview_matches_counts_and_highlights_literals() -> None:
    preview = compute_preview("docker/auth/**", INDEX, [status("docker-pass")])
    assert preview.index is not None
    assert preview.index.ids == ["docker/auth", "docker/auth/hub/alice", "docker/auth/hub/bob"]
    assert (preview.matched, preview.total) == (3, 7)
    assert preview.literals == {"docker", "auth"}
    assert preview.routing.running == ("docker-pass",)


def test_preview_keeps_duplicates_from_several_providers() -> None:
    both = RealmIndex([*infos("a/x", "b/y"), *infos("a/x", provider="1password-cli")])
    preview = compute_preview("a/*", both, [])
    assert preview.index is not None
    assert [(i.id.value, i.provider) for i in preview.index.entries] == [
        ("a/x", "1password-cli"),
        ("a/x", "docker-pass"),
    ]


def test_empty_pattern_is_no_filter_and_invalid_says_why() -> None:
    assert compute_preview("", INDEX, []).index is None
    invalid = compute_preview("docker/a*", INDEX, [])
    assert invalid.pattern is None
    assert invalid.error == "a component mixes * with other characters"
    assert validate_pattern("a//b") == "a component is empty (//)"
    assert validate_pattern("") == ""


def test_routing_follows_narrow_and_splits_down_plugins() -> None:
    plugins = [
        status("docker-pass"),
        status("1password-cli", pattern="op/**", state="crashed"),
        status("vault", pattern="vault/**"),
        status("off", enabled=False, state="disabled"),
    ]
    from docker_pass.core.ids import Pattern

    assert route(Pattern("op/x/*"), plugins).running == ("docker-pass",)
    assert route(Pattern("op/x/*"), plugins).idle == ("1password-cli", "off")
    assert route(Pattern("vault/db"), plugins).running == ("docker-pass", "vault")
