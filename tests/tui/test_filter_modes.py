"""The filter field's modes: prefix while typing, word search, exact patterns, metadata terms.

The pure parts (tui/model/search.py, tui/model/preview.py) are checked against naive filters
written out here; the pilot tests check what a person sees key by key.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Input, Static

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID, Pattern
from docker_pass.tui.demo import DEMO_SECRETS
from docker_pass.tui.model.preview import compute_preview
from docker_pass.tui.model.realms import RealmIndex
from docker_pass.tui.model.search import (
    FilterMode,
    Highlight,
    IdTerm,
    MetadataTerm,
    offer_pattern,
    parse_query,
    prefix_run,
)
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

DEMO = RealmIndex(
    [SecretInfo(ID(i), "docker-pass", MappingProxyType(dict(m))) for i, _, m in DEMO_SECRETS]
)
DEMO_IDS = [i for i, _, _ in DEMO_SECRETS]

# IDs over a small alphabet, so that prefixes and words collide often.
component = st.text(alphabet="abAB1:.-", min_size=1, max_size=4)
an_id = st.lists(component, min_size=1, max_size=4).map("/".join)


def index_of(ids: list[str]) -> RealmIndex:
    return RealmIndex([SecretInfo(ID(i), "p") for i in ids])


def summary(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#pattern-summary", Static).render())


# -- what the text means --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode", "id_term", "error"),
    [
        ("", FilterMode.ALL, "", ""),
        ("   ", FilterMode.ALL, "", ""),
        ("docker", FilterMode.SEARCH, "docker", ""),
        ("docker/", FilterMode.PREFIX, "docker/", ""),
        ("docker/au", FilterMode.PREFIX, "docker/au", ""),
        ("docker/auth/**", FilterMode.PATTERN, "docker/auth/**", ""),
        ("**/token/", FilterMode.PATTERN, "**/token/", ""),
        ("owner=alice", FilterMode.METADATA, "", ""),
        ("docker/ owner=alice", FilterMode.PREFIX, "docker/", ""),
        ("/docker", FilterMode.PREFIX, "/docker", "a pattern cannot start with /"),
        ("docker//", FilterMode.PREFIX, "docker//", "a component is empty (//)"),
        (
            "dock!",
            FilterMode.SEARCH,
            "dock!",
            "'!' is not allowed (use A-Z a-z 0-9 . _ - : or a whole * / **)",
        ),
        ("docker/a*", FilterMode.PATTERN, "docker/a*", "a component mixes * with other characters"),
        ("=alice", FilterMode.METADATA, "", "a metadata term needs a key: key=value"),
    ],
)
def test_the_text_decides_the_mode(text: str, mode: FilterMode, id_term: str, error: str) -> None:
    query = parse_query(text)
    assert (query.mode, query.id_term, query.error) == (mode, id_term, error)


def test_further_id_terms_narrow_too() -> None:
    query = parse_query("docker/ alice **/x")
    assert (query.mode, query.id_term, query.error) == (FilterMode.PREFIX, "docker/", "")
    assert query.more == (
        IdTerm(FilterMode.SEARCH, "alice"),
        IdTerm(FilterMode.PATTERN, "**/x", Pattern("**/x")),
    )
    assert parse_query("docker/ al!").error.startswith("'!' is not allowed")


@given(st.lists(an_id, max_size=30), an_id, component)
def test_several_terms_keep_what_each_keeps(ids: list[str], prefix: str, word: str) -> None:
    text = f"{prefix}/ {word}"
    preview = compute_preview(text, index_of(ids), [])
    assert preview.index is not None
    naive = sorted(i for i in ids if i.startswith(prefix + "/") and word.casefold() in i.casefold())
    assert preview.index.ids == naive


def test_metadata_terms_want_the_value_exactly_and_key_alone_means_has_key() -> None:
    query = parse_query("owner=alice team=")
    assert query.metadata == (MetadataTerm("owner", "alice"), MetadataTerm("team", None))
    has_owner = MetadataTerm("owner", None)
    assert has_owner.accepts({"owner": ""})
    assert not has_owner.accepts({"team": "x"})
    assert MetadataTerm("owner", "alice").accepts({"owner": "alice"})
    assert not MetadataTerm("owner", "alice").accepts({"owner": "alice2"})


def test_a_trailing_slash_on_a_pattern_reads_as_below_it() -> None:
    query = parse_query("**/oauth/")
    assert query.pattern == Pattern("**/oauth/*/**")
    preview = compute_preview("**/oauth/", DEMO, [])
    assert preview.index is not None
    assert preview.index.ids == [i for i in sorted(DEMO_IDS) if "/oauth/" in i]


# -- prefix and search against naive filters ------------------------------------------------


@given(st.lists(an_id, max_size=30), st.text(alphabet="abAB1:.-/", min_size=1, max_size=6))
def test_prefix_run_is_exactly_the_ids_starting_with_the_text(ids: list[str], text: str) -> None:
    ordered = sorted(ids)
    lo, hi = prefix_run(ordered, text)
    assert ordered[lo:hi] == [i for i in ordered if i.startswith(text)]


@given(st.lists(an_id, max_size=30), an_id.filter(lambda t: "/" in t))
def test_prefix_mode_keeps_what_the_naive_prefix_filter_keeps(ids: list[str], text: str) -> None:
    preview = compute_preview(text, index_of(ids), [])
    assert preview.mode is FilterMode.PREFIX
    assert preview.index is not None
    assert preview.index.ids == sorted(i for i in ids if i.startswith(text))


@given(st.lists(an_id, max_size=30), component)
def test_search_keeps_ids_with_a_component_containing_the_word(ids: list[str], word: str) -> None:
    preview = compute_preview(word, index_of(ids), [])
    assert preview.mode is FilterMode.SEARCH
    assert preview.index is not None
    naive = sorted(i for i in ids if any(word.lower() in c.lower() for c in i.split("/")))
    assert preview.index.ids == naive
    # A word that starts the ID is such a component: search keeps all the prefix would.
    assert set(i for i in ids if i.startswith(word)) <= set(preview.index.ids)


@given(st.lists(an_id, max_size=30), st.lists(component, min_size=1, max_size=6))
def test_searching_again_in_one_index_narrows_correctly(ids: list[str], words: list[str]) -> None:
    index = index_of(ids)
    # Typed on (each word a prefix of the next, as keys arrive), then other words at random.
    typed = [words[0][:n] for n in range(1, len(words[0]) + 1)] + words[1:]
    for word in typed:
        preview = compute_preview(word, index, [])
        assert preview.index is not None
        naive = sorted(i for i in ids if word.casefold() in i.casefold())
        assert preview.index.ids == naive, word


@given(st.lists(an_id, max_size=30), component)
def test_the_offered_pattern_keeps_exactly_what_the_search_kept(ids: list[str], word: str) -> None:
    preview = compute_preview(word, index_of(ids), [])
    assert preview.index is not None
    for offered in preview.offer.equivalent:
        assert Pattern(offered).filter(sorted(ids)) == preview.index.ids
    if preview.offer.partial:
        kept = Pattern(preview.offer.partial).filter(sorted(ids))
        assert len(kept) == preview.offer.partial_count
        assert 0 < len(kept) < len(preview.index)


a_pattern = st.lists(
    st.one_of(component, st.sampled_from(["*", "**"])), min_size=1, max_size=4
).filter(lambda parts: "*" in parts or "**" in parts)


@given(st.lists(an_id, max_size=30), a_pattern)
def test_pattern_mode_keeps_exactly_what_the_pattern_matches(
    ids: list[str], parts: list[str]
) -> None:
    text = "/".join(parts)
    preview = compute_preview(text, index_of(ids), [])
    assert preview.index is not None
    pattern = Pattern(text)
    assert preview.mode is FilterMode.PATTERN
    assert preview.index.ids == [i for i in sorted(ids) if pattern.matches(i)]


def test_offers_on_the_demo_store() -> None:
    two_alices = ["/docker/auth/ghcr.io/alice/", "/docker/auth/hub/alice/", "/x/alicia/"]
    assert offer_pattern("alice", 2, two_alices).equivalent == ("**/alice/**", "**/alice")
    assert offer_pattern("ali", 3, two_alices).equivalent == ()
    assert compute_preview("docker", DEMO, []).offer.equivalent == ("**/docker/**",)
    hub = compute_preview("hub", DEMO, []).offer  # docker/auth/hub/… and …/oauth/github
    assert (hub.equivalent, hub.partial, hub.partial_count) == ((), "**/hub/**", 2)
    assert compute_preview("ali", DEMO, []).offer.equivalent == ()


def test_metadata_terms_and_the_id_filter_combine() -> None:
    preview = compute_preview("owner=platform-team", DEMO, [])
    assert preview.mode is FilterMode.METADATA
    assert preview.index is not None
    expected = sorted(i for i, _, m in DEMO_SECRETS if m.get("owner") == "platform-team")
    assert preview.index.ids == expected
    both = compute_preview("myapp/prod/ owner=platform-team", DEMO, [])
    assert both.index is not None
    assert both.index.ids == [i for i in expected if i.startswith("myapp/prod/")]
    has_key = compute_preview("registry=", DEMO, [])
    assert has_key.index is not None
    assert has_key.index.ids == sorted(i for i, _, m in DEMO_SECRETS if "registry" in m)


@pytest.mark.parametrize(
    ("highlight", "name", "spans"),
    [
        (Highlight(word="ub"), "github", ((4, 6),)),
        (Highlight(word="a"), "Alabama", ((0, 1), (2, 3), (4, 5), (6, 7))),
        (Highlight(frozenset({"docker"}), partial="au"), "docker", ((0, 6),)),
        (Highlight(frozenset({"docker"}), partial="au"), "auth", ((0, 2),)),
        (Highlight(frozenset({"docker"}), partial="au"), "mcp", ()),
        (Highlight(), "anything", ()),
    ],
)
def test_highlight_spans(highlight: Highlight, name: str, spans: tuple[tuple[int, int]]) -> None:
    assert highlight.spans(name) == spans


# -- what a person sees ---------------------------------------------------------------------


def test_each_key_narrows_and_the_count_line_names_the_mode() -> None:
    typed = "docker/auth"
    lines: list[str] = []
    counts: list[int] = []

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        field = app.screen.query_one("#pattern-input", Input)
        for end in range(1, len(typed) + 1):
            char = typed[end - 1]
            await pilot.press("slash" if char == "/" else char)
            await settle(pilot)
            text = typed[:end]
            assert not field.has_class("-invalid"), f"{text!r} is marked invalid"
            lines.append(summary(pilot))
            counts.append(app.pattern.preview.matched)
            if "/" in text:
                expected = sum(1 for i in DEMO_IDS if i.startswith(text))
                assert lines[-1] == f"prefix · {expected} of 15 under {text}… · by name"
            else:
                expected = sum(1 for i in DEMO_IDS if any(text in c for c in i.split("/")))
                assert lines[-1].startswith(
                    f"search · {expected} of 15 · components containing {text} · "
                )
            assert app.pattern.preview.matched == expected

    run(make_app(), scenario)
    print("\n".join(f"{typed[: n + 1]!r:15} {line}" for n, line in enumerate(lines)))
    assert counts[-1] == 3
    assert lines[5] == (
        "search · 6 of 15 · components containing docker · as a pattern: **/docker/** · by name"
    )


def test_a_searched_word_is_highlighted_in_the_labels() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("slash")
        await type_text(pilot, "ALI")
        tree = pilot.app.screen.query_one(RealmTree)
        assert summary(pilot) == (
            "search · 2 of 15 · components containing ALI · no pattern equivalent · by name"
        )
        labels = {}
        for line in range(tree.last_line + 1):
            node = tree.get_node_at_line(line)
            if node is not None and not node.allow_expand:
                labels[str(node.label)] = node.label
        label = labels["alice  docker-pass"]
        marked = [span for span in label.spans if span.style]  # type: ignore[union-attr]
        assert [(s.start, s.end) for s in marked[:1]] == [(0, 3)]

    run(make_app(), scenario)


def test_characters_no_id_holds_mark_the_field_red() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docker/a!")
        field = app.screen.query_one("#pattern-input", Input)
        assert field.has_class("-invalid")
        assert app.screen.query_one("#pattern-summary").has_class("-error")
        assert summary(pilot).startswith("✗ '!' is not allowed")
        await pilot.press("backspace")
        await settle(pilot)
        assert not field.has_class("-invalid")
        assert summary(pilot) == "prefix · 3 of 15 under docker/a… · by name"

    run(make_app(), scenario)


def test_metadata_terms_filter_the_tree() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "owner=platform-team")
        expected = sum(1 for _, _, m in DEMO_SECRETS if m.get("owner") == "platform-team")
        # Still typing: the value reads as a prefix (issue 24), and the count line says so.
        assert summary(pilot) == (
            f"metadata · {expected} of 15 with owner=platform-team · as you type: "
            "platform-team… as a prefix · by name"
        )
        await type_text(pilot, " myapp/prod/")
        assert app.pattern.preview.matched == 2
        assert summary(pilot) == (
            "prefix · 2 of 15 under myapp/prod/… · with owner=platform-team · by name"
        )
        # Typing a further term is never an error on the way: each key narrows.
        field = app.screen.query_one("#pattern-input", Input)
        for char in " pass":
            await pilot.press("space" if char == " " else char)
            await settle(pilot)
            assert not field.has_class("-invalid")
        assert app.pattern.preview.matched == 1
        assert summary(pilot) == (
            "prefix · 1 of 15 under myapp/prod/… · and containing pass · with "
            "owner=platform-team · by name"
        )

    run(make_app(), scenario)


def test_the_matching_module_is_plain() -> None:
    from tests.test_boundaries import modules_after, top_level

    assert "textual" not in top_level(modules_after("import docker_pass.tui.model.search"))


def test_one_secret_is_one_secret() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert summary(pilot) == "1 secret · press / to filter · by name"
        assert "1 secret" in app.sub_title.split(" · ")
        assert "secrets" not in app.sub_title
        await pilot.press("slash")
        await type_text(pilot, "gh/**")
        assert summary(pilot) == "pattern · 1 of 1 matches · routed to docker-pass · by name"

    run(make_app({"docker-pass": keychain_class({"gh/token": (b"v", {})})}), scenario)
