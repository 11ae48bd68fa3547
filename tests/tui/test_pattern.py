"""The live pattern preview: narrowing, counts, routing, invalid patterns, Escape, big listings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input, Static

from docker_pass.tui.demo import DEMO_SECRETS
from docker_pass.tui.messages import PreviewComputed
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import crashing_class, keychain_class, many_secrets, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot


def summary(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#pattern-summary", Static).render())


DEMO_IDS = [i for i, _, _ in DEMO_SECRETS]


def field(pilot: Pilot[None]) -> Input:
    return pilot.app.screen.query_one("#pattern-input", Input)


def leaves(pilot: Pilot[None]) -> list[str]:
    tree = pilot.app.screen.query_one(RealmTree)
    out = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and not node.allow_expand:
            out.append(str(node.label))
    return out


def test_slash_focuses_the_field_and_each_key_narrows_the_tree() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        assert app.focused is field(pilot)
        await pilot.press(*"**/token")
        await settle(pilot)
        assert app.pattern.preview.text == "**/token"
        # While typing, the last component reads as a prefix (issue 24: "token" may go on).
        typed = sum(1 for i in DEMO_IDS if any(c.startswith("token") for c in i.split("/")))
        assert app.pattern.preview.matched == typed >= 2
        # How the text is read comes before the routing (detail goes first at 80 columns).
        assert summary(pilot).startswith(
            "pattern · 2 of 15 match · as you type: token… as a prefix · routed to docker-pass"
        )
        # Enter: the pattern is read exactly (and the keys go to the tree).
        await pilot.press("enter")
        await settle(pilot)
        assert app.pattern.preview.matched == 2
        assert summary(pilot).startswith(
            "pattern · 2 of 15 match · exact (Enter) · routed to docker-pass, 1password-sdk"
        )
        # Small results open every realm; the matching component is highlighted.
        assert leaves(pilot) == [
            "✖ 1password-cli: crashed",
            "token  docker-pass",
            "token  docker-pass",
        ]
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.content is not None
        assert tree.content.literals == {"token"}
        await pilot.press("slash", "end")  # the field selects its text on focus
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await settle(pilot)
        # A trailing / is never an error while typing: "**/" keeps what lies below "**".
        assert app.pattern.preview.text == "**/"
        assert app.pattern.preview.error == ""
        assert app.pattern.preview.matched == 15
        assert summary(pilot).startswith(
            "pattern · 15 of 15 match · as you type: anything below **/ · routed to"
        )
        await pilot.press("enter")
        await settle(pilot)
        assert summary(pilot).startswith(
            "pattern · 15 of 15 match **/*/** · exact (Enter) · routed to"
        )

    classes = {
        "docker-pass": keychain_class(),
        "1password-cli": crashing_class(),
        "1password-sdk": readonly_class(items={}),
    }
    run(make_app(classes), scenario)


def test_an_invalid_pattern_marks_the_field_and_says_which_rule_broke() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docker/a")
        await pilot.press("asterisk")
        await settle(pilot)
        assert field(pilot).has_class("-invalid")
        assert summary(pilot) == "✗ a component mixes * with other characters"
        assert app.pattern.preview.error == "a component mixes * with other characters"
        assert pilot.app.screen.query_one("#pattern-summary").has_class("-error")
        await pilot.press("backspace")
        await settle(pilot)
        assert not field(pilot).has_class("-invalid")
        # docker/a is an unfinished ID: a prefix, which keeps the IDs that start with it.
        assert summary(pilot) == "prefix · 3 of 15 under docker/a… · by name"  # docker/auth/…

    run(make_app(), scenario)


def test_escape_clears_the_pattern_and_returns_to_the_tree() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "myapp/*/postgres/*")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.focused, RealmTree)  # enter keeps the filter
        assert app.pattern.preview.matched == 3
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert field(pilot).value == ""
        assert app.pattern.preview.pattern is None
        assert isinstance(app.focused, RealmTree)
        assert summary(pilot).startswith("15 secrets")
        # Escape on the tree clears a pattern too.
        app.screen.query_one(PatternBar).set_text("gh/**")
        await settle(pilot)
        assert app.pattern.preview.matched == 1
        await pilot.press("escape")
        await settle(pilot)
        assert app.pattern.preview.pattern is None

    run(make_app(), scenario)


def test_a_pattern_no_running_plugin_serves_says_so() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("slash")
        await type_text(pilot, "x/**")
        await settle(pilot)
        assert (
            summary(pilot)
            == "pattern · 0 of 0 match · no running plugin serves it · not running: 1password-cli"
            " · by name"
        )

    classes = {"1password-cli": crashing_class()}
    run(make_app(classes), scenario)


def test_large_listings_are_matched_off_the_event_loop_and_keys_coalesce() -> None:
    secrets = many_secrets(20_000)
    expected = sum(1 for id_ in secrets if id_.startswith("payments/prod/"))
    typed = "payments/prod/**"

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert len(app.listing.index) == 20_000
        # Keys arriving faster than matching: every edit is queued before any result is back.
        bar = app.screen.query_one(PatternBar)
        for end in range(1, len(typed) + 1):
            bar.set_text(typed[:end])
        await settle(pilot)
        computed = seen.of(PreviewComputed)
        assert computed, "a big listing is matched in a worker"
        assert len(computed) <= 3, "edits typed meanwhile are folded into one computation"
        assert computed[-1].preview.text == typed
        assert app.pattern.preview.text == typed
        assert app.pattern.preview.matched == expected
        assert summary(pilot).startswith(f"pattern · {expected:,} of 20,000 match")
        # Typed key by key, every step still ends in the preview of what is in the field.
        await pilot.press("slash", "end", *["backspace"] * 7)
        await type_text(pilot, "dev/**")
        await settle(pilot)
        assert app.pattern.preview.text == "payments/dev/**"
        assert summary(pilot).startswith(
            f"pattern · {sum(1 for i in secrets if i.startswith('payments/dev/')):,} of 20,000"
        )

    app = make_app({"docker-pass": keychain_class(secrets)}, inline_preview_limit=5_000)
    run(app, scenario)
