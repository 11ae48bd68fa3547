"""match_uses / uses_of: referrers matched to IDs (exact, by pattern, lookups), dangling and
unused, expiry; and gather's reading of files given with --file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core.docker.compose import ComposeFileError
from docker_pass.core.docker.usage import CONTAINER, FILE, SERVICE, Gathered, Place, Referrer
from docker_pass.core.docker.uses import (
    NOT_ASKED,
    dangling_reason,
    gather,
    match_uses,
    uses_of,
)
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.expiry import ExpiryState
from docker_pass.core.ids import ID, Pattern

if TYPE_CHECKING:
    from pathlib import Path

WEB = Place(CONTAINER, "web", container_id="c1", state="running")
API = Place(SERVICE, "shop/api", project="shop", service="api", state="no container")
ENV = Place(FILE, "/x/.env", file="/x/.env")


def infos(*ids: str, **metadata: dict[str, str]) -> list[SecretInfo]:
    return [SecretInfo(ID(i), "file", metadata.get(i.replace("/", "_"), {})) for i in ids]


def test_exact_pattern_and_lookup_uses() -> None:
    gathered = Gathered(
        [
            Referrer(WEB, "PW", "db/password"),
            Referrer(WEB, "x-secret:db/*=/run/db", "db/*"),
            Referrer(API, "TOKEN", "api/token"),
            Referrer(ENV, "db/password", "db/password", lookup=True),
        ]
    )
    report = match_uses(gathered, infos("api/token", "db/password", "db/user"))
    assert list(report.uses) == ["api/token", "db/password", "db/user"]
    pw = [(u.place.name, u.referrer.via, u.by_pattern) for u in report.uses["db/password"]]
    assert pw == [
        ("web", "PW", False),
        ("web", "x-secret:db/*=/run/db", True),
        ("/x/.env", "db/password", False),
    ]
    assert [(u.place.name, u.by_pattern) for u in report.uses["db/user"]] == [("web", True)]
    assert [u.place.name for u in report.uses["api/token"]] == ["shop/api"]
    assert report.dangling == []
    assert report.unused == []


def test_dangling_and_unused_on_request_only() -> None:
    gone = Referrer(WEB, "OLD", "old/secret")
    bad = Referrer(WEB, "BAD", "db//x")
    nothing = Referrer(API, "ANY", "nope/**")
    empty_in_file = Referrer(ENV, "HOME_TOKEN", "HOME_TOKEN", lookup=True)
    gathered = Gathered([gone, bad, nothing, empty_in_file, Referrer(WEB, "PW", "db/password")])
    plain = match_uses(gathered, infos("db/password", "db/user"))
    assert plain.dangling == []
    assert plain.unused == []
    report = match_uses(gathered, infos("db/password", "db/user"), dangling=True, unused=True)
    assert {(r.place.name, r.via) for r in report.dangling} == {
        ("web", "OLD"),
        ("web", "BAD"),
        ("shop/api", "ANY"),
    }
    assert report.unused == ["db/user"]
    assert dangling_reason(gone) == "no secret has this ID"
    assert dangling_reason(nothing) == "the pattern matches no secret"
    assert "db//x" in dangling_reason(bad) or "empty" in dangling_reason(bad).lower()


def test_expiry_from_metadata() -> None:
    past = (date.today() - timedelta(days=3)).isoformat()
    soon = (date.today() + timedelta(days=5)).isoformat()
    gathered = Gathered([Referrer(WEB, "A", "a/old")])
    report = match_uses(
        gathered,
        infos("a/old", "a/soon", "a/none", a_old={"expires": past}, a_soon={"expires": soon}),
    )
    assert set(report.expiry) == {"a/old", "a/soon"}
    assert report.expiry["a/old"].state == ExpiryState.EXPIRED
    assert report.expiry["a/old"].days == -3
    assert report.expiry["a/soon"].state == ExpiryState.SOON


def test_duplicate_ids_listed_once_and_uses_of_follows_changes() -> None:
    gathered = Gathered([Referrer(WEB, "PW", "db/password")])
    both = [SecretInfo(ID("db/password"), "file"), SecretInfo(ID("db/password"), "vault")]
    report = match_uses(gathered, both)
    assert len(report.uses["db/password"]) == 1
    assert len(uses_of(gathered, "db/password")) == 1
    gathered.referrers.append(Referrer(API, "PW", "db/**"))
    assert [u.by_pattern for u in uses_of(gathered, "db/password")] == [False, True]
    assert uses_of(gathered, "other/id") == []


_component = st.sampled_from(["a", "b", "db", "x1"])
_ids = st.lists(_component, min_size=1, max_size=3).map("/".join)
_targets = st.one_of(
    _ids,
    st.lists(st.sampled_from(["a", "b", "db", "*", "**"]), min_size=1, max_size=3).map("/".join),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ids, max_size=8, unique=True), st.lists(_targets, max_size=8))
def test_every_referrer_is_a_use_or_dangling(ids: list[str], targets: list[str]) -> None:
    """Each referrer is a use of exactly the IDs its target matches, else dangling (a use is
    by pattern when the target is not the ID itself)."""
    referrers = [Referrer(WEB, f"V{i}", t) for i, t in enumerate(targets)]
    report = match_uses(Gathered(referrers), infos(*ids), dangling=True, unused=True)
    for referrer in referrers:
        try:
            pattern: Pattern | None = Pattern.parse(referrer.target)
        except ValueError:
            pattern = None
        matched = [i for i in ids if pattern is not None and pattern.matches(i)]
        for id_ in ids:
            uses = [u for u in report.uses.get(id_, []) if u.referrer is referrer]
            assert len(uses) == (1 if id_ in matched else 0)
            if uses:
                assert uses[0].by_pattern == (referrer.target != id_)
        assert (referrer in report.dangling) == (not matched)
    assert report.unused == [i for i in ids if i not in report.uses]


def test_gather_without_engine_reads_files(tmp_path: Path) -> None:
    env = tmp_path / "app.env"
    env.write_text("PW=se://db/password\nPLAIN=hello\nALL=se://db/**\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: busybox\n    environment:\n      K: se://api/token\n"
    )
    gathered = gather(None, [env, compose])
    assert gathered.docker == NOT_ASKED
    found = {
        (r.place.kind, r.place.file, r.place.service, r.via, r.target) for r in gathered.referrers
    }
    assert found == {
        (FILE, str(env), "", "PW", "db/password"),
        (FILE, str(env), "", "ALL", "db/**"),
        (FILE, str(compose), "web", "K", "api/token"),
    }


def test_gather_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ComposeFileError, match="not found"):
        gather(None, [tmp_path / "gone.env"])
