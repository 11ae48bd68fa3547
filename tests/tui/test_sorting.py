"""The tree's order: natural names, by provider, newest first; ``s`` cycles it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Static

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID, Pattern
from docker_pass.tui.model.realms import RealmIndex, SortOrder, natural_key
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import Secrets, keychain_class, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle

if TYPE_CHECKING:
    import builtins

    from textual.pilot import Pilot


@pytest.mark.parametrize(
    "ordered",
    [
        ["team2", "team10", "team100"],
        ["a", "a1", "a2", "a10", "b"],
        ["svc9", "svc10", "svc10b", "svc11"],
        ["1", "2", "10", "x"],
        ["A", "a", "B", "b"],
        ["v1.2", "v1.10", "v2.0"],
    ],
)
def test_names_sort_naturally(ordered: list[str]) -> None:
    assert sorted(reversed(ordered), key=natural_key) == ordered


@given(st.text(alphabet="ab.-", max_size=4), st.integers(0, 10_000), st.integers(0, 10_000))
def test_numbers_in_names_compare_as_numbers(prefix: str, m: int, n: int) -> None:
    a, b = natural_key(f"{prefix}{m}x"), natural_key(f"{prefix}{n}x")
    assert (a < b) == (m < n)


@given(st.lists(st.text(alphabet="aB09.-", max_size=6), max_size=20))
def test_natural_order_sorts_any_names_consistently(names: list[str]) -> None:
    once = sorted(names, key=natural_key)
    assert sorted(reversed(once), key=natural_key) == once  # a total order: no ties, no errors


def infos(*rows: tuple[str, str, float | None]) -> RealmIndex:
    return RealmIndex([SecretInfo(ID(i), p, updated_at=t) for i, p, t in rows])


INDEX = infos(
    ("r/team10/x", "docker-pass", 50.0),
    ("r/team2/x", "docker-pass", 10.0),
    ("r/team2/y", "docker-pass", None),
    ("r/svc10", "1password-cli", 30.0),
    ("r/svc9", "docker-pass", None),
    ("r/svc2", "vault", 40.0),
)


def names(index: RealmIndex, order: SortOrder) -> tuple[list[str], list[str]]:
    realms, leaves = index.children("r", order)
    return [r.name for r in realms], [e.id.value.rpartition("/")[2] for e in leaves]


def test_children_in_each_order() -> None:
    assert names(INDEX, SortOrder.NAME) == (["team2", "team10"], ["svc2", "svc9", "svc10"])
    assert names(INDEX, SortOrder.PROVIDER) == (["team2", "team10"], ["svc10", "svc9", "svc2"])
    # Newest first (realms by the newest secret under them); unknown times last.
    assert names(INDEX, SortOrder.UPDATED) == (["team10", "team2"], ["svc2", "svc10", "svc9"])
    # The index itself keeps its ID order (for its bisections).
    assert INDEX.ids == sorted(INDEX.ids)


def test_the_order_cycles() -> None:
    assert [SortOrder.NAME.next(), SortOrder.PROVIDER.next(), SortOrder.UPDATED.next()] == [
        SortOrder.PROVIDER,
        SortOrder.UPDATED,
        SortOrder.NAME,
    ]


def dated_keychain() -> type[Any]:
    """A keychain with team realms and change times on some secrets."""
    secrets: Secrets = {
        "team10/db": (b"v", {}),
        "team2/db": (b"v", {}),
        "team9/db": (b"v", {}),
        "alpha": (b"v", {}),
        "beta": (b"v", {}),
    }
    times = {"team9/db": 300.0, "beta": 200.0, "team10/db": 100.0}
    base = keychain_class(secrets)

    class Dated(base):  # type: ignore[misc,valid-type]
        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return [
                SecretInfo(i.id, i.provider, i.metadata, times.get(i.id.value))
                for i in super().list(pattern)
            ]

    return Dated


def top_labels(tree: RealmTree) -> list[str]:
    return [str(node.label) for node in tree.root.children]


def test_s_cycles_the_order_and_the_count_line_says_it() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        tree = app.screen.query_one(RealmTree)
        summary = app.screen.query_one("#pattern-summary", Static)
        assert top_labels(tree) == [
            "team2/ 1",
            "team9/ 1",
            "team10/ 1",
            "alpha  docker-pass",
            "beta  docker-pass",
            "gamma  1password-sdk",
        ]
        assert str(summary.render()).endswith("· by name")
        await pilot.press("s")
        await settle(pilot)
        assert app.view.sort_order == SortOrder.PROVIDER
        assert str(summary.render()).endswith("· by provider")
        assert top_labels(tree)[3:] == [
            "gamma  1password-sdk",
            "alpha  docker-pass",
            "beta  docker-pass",
        ]
        await pilot.press("s")
        await settle(pilot)
        assert str(summary.render()).endswith("· newest first")
        assert top_labels(tree) == [
            "team9/ 1",
            "team10/ 1",
            "team2/ 1",
            "beta  docker-pass",
            "alpha  docker-pass",
            "gamma  1password-sdk",
        ]
        # The order holds while filtering.
        await pilot.press("slash", *"team")
        await settle(pilot)
        assert [str(n.label) for n in tree.root.children] == ["team9/ 1", "team10/ 1", "team2/ 1"]
        await pilot.press("escape", "s")
        await settle(pilot)
        assert str(summary.render()).endswith("· by name")  # back to the first order
        assert top_labels(tree)[:3] == ["team2/ 1", "team9/ 1", "team10/ 1"]

    classes = {
        "docker-pass": dated_keychain(),
        "1password-sdk": readonly_class(items={"gamma": b"v"}),
    }
    run(make_app(classes), scenario)
