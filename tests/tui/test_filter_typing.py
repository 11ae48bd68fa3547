"""Issue 24, item 2: while typing, the filter never empties the tree where one more key could
match; Enter reads the text exactly.

The properties run :func:`compute_preview` on generated listings, key by key, in every mode the
field has (prefix, search, pattern, metadata, and terms combined); the pilot tests type into the
real app.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from textual.widgets import Input, Static

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.tui.demo import DEMO_SECRETS
from docker_pass.tui.model.preview import compute_preview
from docker_pass.tui.model.realms import RealmIndex
from docker_pass.tui.model.search import FilterMode, parse_query
from tests.tui.conftest import Recorder, app_of, make_app, run, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot

component = st.text(alphabet="abAB1:.-", min_size=1, max_size=4)
an_id = st.lists(component, min_size=1, max_size=4).map("/".join)
meta_key = st.sampled_from(["owner", "own", "team", "k"])
meta_value = st.text(alphabet="abc-", min_size=0, max_size=4)
entry = st.tuples(an_id, st.dictionaries(meta_key, meta_value, max_size=2))
listing = st.lists(entry, min_size=1, max_size=25)


def index_of(entries: list[tuple[str, dict[str, str]]]) -> RealmIndex:
    return RealmIndex([SecretInfo(ID(i), "p", MappingProxyType(m)) for i, m in entries])


@st.composite
def pattern_for(draw: st.DrawFn, id_: str) -> str:
    """A pattern that matches ``id_``: some components made ``*``, a run made ``**``."""
    parts = id_.split("/")
    out = [("*" if draw(st.booleans()) else part) for part in parts]
    if draw(st.booleans()):
        start = draw(st.integers(0, len(out)))
        end = draw(st.integers(start, len(out)))
        out[start:end] = ["**"]
    return "/".join(out) if out else "**"


@st.composite
def texts_that_match(draw: st.DrawFn) -> tuple[list[tuple[str, dict[str, str]]], str]:
    """A listing and a filter text, in any mode, that keeps at least one of its secrets."""
    entries = draw(listing)
    id_, metadata = draw(st.sampled_from(entries))
    kinds = ["pattern", "prefix", "search", "metadata", "combined", "metadata first"]
    kind = draw(st.sampled_from(kinds))
    parts = id_.split("/")
    if kind == "pattern":
        text = draw(pattern_for(id_))
    elif kind == "prefix":
        text = id_[: draw(st.integers(1, len(id_)))]
        assume("/" in text)
    elif kind == "search":
        word = draw(st.sampled_from(parts))
        start = draw(st.integers(0, len(word) - 1))
        text = word[start : draw(st.integers(start + 1, len(word)))]
    else:
        assume(metadata)
        key = draw(st.sampled_from(sorted(metadata)))
        text = f"{key}={metadata[key]}"
        if kind == "combined":
            text = f"{draw(pattern_for(id_))} {text}"
        elif kind == "metadata first":
            text = f"{text} {draw(pattern_for(id_))}"
    assert id_ in (compute_preview(text, index_of(entries), []).index or index_of([])).ids, text
    return entries, text


@given(texts_that_match())
def test_typed_key_by_key_the_tree_is_never_empty(
    case: tuple[list[tuple[str, dict[str, str]]], str],
) -> None:
    entries, text = case
    index = index_of(entries)
    finished = compute_preview(text, index, [])
    assert finished.index is not None
    assert len(finished.index)
    for end in range(1, len(text) + 1):
        typed = text[:end]
        preview = compute_preview(typed, index, [], typing=True)
        assert not preview.error, typed
        assert preview.index is not None, typed
        assert len(preview.index), typed
        if "=" not in text:
            # One term: what it keeps while typed holds what the finished text keeps.
            assert set(finished.index.ids) <= set(preview.index.ids), typed


def test_typing_docker_hub_key_by_key_on_the_demo_never_empties_the_tree() -> None:
    demo = RealmIndex(
        [SecretInfo(ID(i), "p", MappingProxyType(dict(m))) for i, _, m in DEMO_SECRETS]
    )
    for text in ("docker/*/hub/**", "owner=platform-team", "**/oauth/*", "docker/auth/ alice"):
        counts = [
            compute_preview(text[:end], demo, [], typing=True).matched
            for end in range(1, len(text) + 1)
        ]
        assert all(counts), (text, counts)
    # Exactly read, the same texts on the way keep nothing: the 0, 7, 0, 0, 0, 2.
    assert compute_preview("docker/*/h", demo, []).matched == 0
    assert compute_preview("docker/*/h", demo, [], typing=True).matched == 2


@pytest.mark.parametrize(
    ("text", "as_you_type"),
    [
        ("docker/*/h", "h… as a prefix"),
        ("docker/*/hub/", "anything below docker/*/hub/"),
        ("docker/*", "* as ** (anything below)"),
        ("docker/**", ""),
        ("owner=pla", "pla… as a prefix"),
        ("owner=", ""),
        ("owner=pla ", ""),  # a space finishes a term
        ("docker/au", ""),  # a prefix is a prefix anyway
        ("owner=pla docker/*/h", "h… as a prefix"),
    ],
)
def test_the_unfinished_term_and_how_it_reads(text: str, as_you_type: str) -> None:
    assert parse_query(text, typing=True).as_you_type == as_you_type
    assert parse_query(text).as_you_type == ""


def test_a_word_no_id_holds_may_be_a_metadata_key_being_typed() -> None:
    index = index_of([("a/b", {"owner": "x"}), ("c/d", {})])
    preview = compute_preview("own", index, [], typing=True)
    assert preview.index is not None
    assert preview.index.ids == ["a/b"]
    assert preview.as_you_type == "own… as a metadata key"
    assert compute_preview("own", index, []).matched == 0  # finished: a word search


def test_a_trailing_slash_while_typing_keeps_the_realm_named_so_too() -> None:
    # "a/" may become "a/**", which matches "a" itself.
    index = index_of([("a", {}), ("a-b", {}), ("a/c", {}), ("b", {})])
    preview = compute_preview("a/", index, [], typing=True)
    assert preview.index is not None
    assert preview.index.ids == ["a", "a/c"]
    assert preview.mode is FilterMode.PREFIX


# -- the real app -------------------------------------------------------------------------------


def summary(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#pattern-summary", Static).render())


def test_typing_key_by_key_in_the_app_never_empties_the_tree_and_enter_is_exact() -> None:
    typed = "docker/*/hub/**"
    counts: list[int] = []

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        for char in typed:
            await pilot.press({"/": "slash", "*": "asterisk"}.get(char, char))
            await settle(pilot)
            counts.append(app.pattern.preview.matched)
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await settle(pilot)
        assert app.pattern.preview.text == "docker/*/h"
        assert app.pattern.preview.matched == 2
        assert "as you type: h… as a prefix" in summary(pilot)
        await pilot.press("enter")
        await settle(pilot)
        # Finished: exact, so "h" is a component named h (none), and the count line says so.
        assert app.pattern.preview.matched == 0
        assert "exact (Enter)" in summary(pilot)
        assert not isinstance(app.focused, Input)

    run(make_app(), scenario)
    assert all(counts), counts
    assert counts[-1] == 2


def test_owner_value_typed_key_by_key_keeps_its_secrets() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        for char in "owner=pla":
            await pilot.press({"=": "equals_sign"}.get(char, char))
            await settle(pilot)
            assert app.pattern.preview.matched, app.pattern.preview.text
        assert app.pattern.preview.matched == 4
        assert summary(pilot) == (
            "metadata · 4 of 15 with owner=pla · as you type: pla… as a prefix · by name"
        )

    run(make_app(), scenario)
