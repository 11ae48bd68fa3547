"""The command palette jumps to any listed secret, fuzzily, even with 100,000 of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.command import CommandInput, CommandList, CommandPalette, Hit

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.commands import SECRET_HITS, SecretsProvider
from docker_pass.tui.model.search import palette_candidates, palette_matches, subsequence_matcher
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class, many_secrets
from tests.tui.conftest import Recorder, app_of, make_app, run, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot


def test_the_first_pass_keeps_characters_in_order_without_backtracking() -> None:
    match = subsequence_matcher("dah")
    assert match("docker/auth/hub")
    assert not match("hub/auth/docker")
    assert subsequence_matcher("a]\\.*")("xa]y\\z.w*")  # regex characters are plain here
    # Possessive steps: a long near-miss is one pass (this would hang a backtracking regex).
    assert not subsequence_matcher("a" * 30 + "b")("a" * 5_000)


def test_the_first_pass_ranks_leaf_matches_first_and_caps() -> None:
    ids = sorted(["x/token", "token/x", "a/b/c/tok/en", "t/o/k/e/n", "unrelated"])
    folded = [i.casefold() for i in ids]
    ranked = [ids[i] for i in palette_candidates(folded, "token", 10)]
    assert ranked == ["x/token", "token/x", "t/o/k/e/n", "a/b/c/tok/en"]
    assert len(palette_candidates(folded, "t", 2)) == 2
    assert palette_candidates(folded, "   ", 10) == []


def test_typing_on_narrows_what_the_shorter_query_found() -> None:
    folded = [i.casefold() for i in sorted(many_secrets(2_000))]
    shorter = palette_matches(folded, "pay")
    assert palette_matches(folded, "paytok", shorter) == palette_matches(folded, "paytok")
    assert set(palette_matches(folded, "paytok")) <= set(shorter)


async def hits(
    pilot: Pilot[None], query: str, provider: SecretsProvider | None = None
) -> list[Hit]:
    """What the provider (a new one unless given: one palette session) offers for ``query``."""
    provider = provider or SecretsProvider(pilot.app.screen)
    return [hit async for hit in provider.search(query) if isinstance(hit, Hit)]


def test_the_provider_offers_secrets_best_first() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        found = await hits(pilot, "hubalice")
        assert found[0].text == "Jump to secret docker/auth/hub/alice"
        assert found[0].help == "in docker-pass"
        assert all(h.text and h.text.startswith("Jump to secret ") for h in found)
        assert await hits(pilot, "zzzz") == []

    run(make_app(), scenario)


def test_it_stays_capped_at_100000_secrets() -> None:
    secrets = many_secrets(100_000)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        session = SecretsProvider(pilot.app.screen)
        await hits(pilot, "svc41", session)  # typed on in one palette: the next query narrows
        found = await hits(pilot, "svc4166tok", session)
        assert [h.text for h in found] == [h.text for h in await hits(pilot, "svc4166tok")]
        assert 0 < len(found) <= SECRET_HITS
        best = found[0].text
        assert best is not None
        assert "svc4166/" in best
        assert best.endswith("/oauth/token")
        assert len(await hits(pilot, "a")) == SECRET_HITS

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario)


async def palette_hit(pilot: Pilot[None], query: str, text: str) -> None:
    """Open the palette, type ``query``, wait until ``text`` is offered, and choose it."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    await type_text(pilot, query, "CommandInput")
    assert isinstance(pilot.app.focused, CommandInput)
    options = palette.query_one(CommandList)
    for _ in range(200):  # the palette searches in a task of its own: wait for its answer
        # Each prompt is the hit's text, then its help on a second line.
        prompts = [
            str(options.get_option_at_index(i).prompt).partition("\n")[0]
            for i in range(options.option_count)
        ]
        if text in prompts:
            break
        await pilot.pause()
    else:
        raise AssertionError(f"{text!r} was never offered: {prompts}")
    options.highlighted = prompts.index(text)
    await pilot.press("enter")
    await settle(pilot)


def test_choosing_a_secret_puts_the_cursor_on_it_clearing_a_filter_that_hides_it() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await palette_hit(pilot, "ghcralice", "Jump to secret docker/auth/ghcr.io/alice")
        tree = app.screen.query_one(RealmTree)
        assert isinstance(tree.highlighted, SecretInfo)
        assert tree.highlighted.id.value == "docker/auth/ghcr.io/alice"
        assert app.focused is tree
        # A filter that hides the secret is cleared first.
        await pilot.press("slash")
        await type_text(pilot, "myapp/")
        await pilot.press("enter")
        await settle(pilot)
        await palette_hit(pilot, "mcpnotion", "Jump to secret docker/mcp/oauth/notion")
        assert app.pattern.preview.text == ""
        assert isinstance(tree.highlighted, SecretInfo)
        assert tree.highlighted.id.value == "docker/mcp/oauth/notion"
        assert app.secrets.selected == tree.highlighted

    run(make_app(), scenario)
