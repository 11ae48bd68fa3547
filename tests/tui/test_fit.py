"""The one fitting helper every line of the UI uses: never wider than its room, every cut ends
in ``…``, and the parts worth more outlast those worth less."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

from docker_pass.tui.fit import COUNT, DETAIL, ELLIPSIS, STATE, Part, fit, fit_parts, split_parts

#: Letters of every width and kind: ASCII, wide CJK, markup and escape look-alikes, controls.
ALPHABET = st.sampled_from(["a", "b", "Z", "/", "[", "]", "漢", "字", "\x1b", "\x07", "é", " "])
PIECE = st.text(ALPHABET, min_size=0, max_size=20)


@st.composite
def lines(draw: st.DrawFn) -> list[Part]:
    count = draw(st.integers(1, 6))
    return [
        Part(
            draw(PIECE),
            draw(st.sampled_from([STATE, COUNT, DETAIL])),
            draw(st.booleans()),
            draw(st.sampled_from([" · ", "  ", ""])),
        )
        for _ in range(count)
    ]


def _full(parts: list[Part]) -> str:
    return "".join((part.gap if i else "") + str(part.text) for i, part in enumerate(parts))


@given(lines(), st.integers(0, 120))
def test_a_line_never_exceeds_its_width_and_draws_no_control(parts: list[Part], width: int) -> None:
    line = fit_parts(parts, width)
    assert line.cell_len <= width
    assert cell_len(line.plain) == line.cell_len
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line.plain)


@given(lines(), st.integers(1, 120))
def test_a_cut_line_says_so_with_an_ellipsis(parts: list[Part], width: int) -> None:
    clean = [p._replace(text=str(p.text).replace("\x1b", "?").replace("\x07", "?")) for p in parts]
    line = fit_parts(clean, width).plain
    if line != _full(clean):
        assert ELLIPSIS in line
        # Whatever is at the end was either shown whole or ends in "…".
        last = str(clean[-1].text)
        assert line.endswith(ELLIPSIS) or line.endswith(last)


@given(
    st.lists(st.sampled_from([STATE, COUNT, DETAIL]), min_size=2, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.integers(1, 80),
)
def test_parts_worth_more_outlast_those_worth_less(
    priorities: list[int], shrinks: list[bool], width: int
) -> None:
    # Distinct letters per part, so a part shown whole is found by its text.
    parts = [
        Part(chr(ord("a") + i) * (3 + i), priority, shrinks[i])
        for i, priority in enumerate(priorities)
    ]
    line = fit_parts(parts, width).plain
    whole = [str(part.text) in line for part in parts]
    for i, part in enumerate(parts):
        if whole[i]:
            continue
        # Part i is cut or gone: every part worth less, and every equal one after it, went first.
        for j, other in enumerate(parts):
            if other.priority < part.priority or (other.priority == part.priority and j > i):
                assert not whole[j], (line, i, j)


def test_the_header_keeps_the_state_and_gives_up_detail() -> None:
    parts = [
        Part("daemon", STATE),
        Part("1 plugin down", STATE),
        Part("22 secrets", COUNT),
        Part("4 plugins", COUNT),
        Part("demo store", DETAIL, shrink=True),
    ]
    full = "daemon · 1 plugin down · 22 secrets · 4 plugins · demo store"
    assert fit_parts(parts, 100).plain == full
    assert fit_parts(parts, 55).plain == "daemon · 1 plugin down · 22 secrets · 4 plugins · demo…"
    assert fit_parts(parts, 40).plain == "daemon · 1 plugin down · 22 secrets · …"
    assert fit_parts(parts, 26).plain == "daemon · 1 plugin down · …"
    assert fit_parts(parts, 4).plain == "dae…"


def test_wide_characters_are_counted_in_cells() -> None:
    parts = [Part("漢字漢字漢字", COUNT, shrink=True, gap=""), Part("  expired", STATE, gap="")]
    line = fit_parts(parts, 12)
    assert line.cell_len <= 12
    assert line.plain.endswith("  expired")
    assert ELLIPSIS in line.plain


def test_markup_looking_text_is_shown_as_written() -> None:
    line = fit_parts([Part("[bold]x[/bold]", STATE), Part("[red]", DETAIL)], 40)
    assert line.plain == "[bold]x[/bold] · [red]"
    assert fit("[b]abcdef", 6).plain == "[b]ab…"


def test_styles_survive_splitting_and_fitting() -> None:
    text = Text("pattern · ", style="bold")
    text.append("3 of 16 · routed to ")
    text.append("docker-pass", style="bold")
    parts = split_parts(text)
    assert [p.plain for p in parts] == ["pattern", "3 of 16", "routed to docker-pass"]
    line = fit_parts([Part(p, STATE) for p in parts], 100)
    assert line.plain == "pattern · 3 of 16 · routed to docker-pass"
    bold = {line.plain[s.start : s.end] for s in line.spans if "bold" in str(s.style)}
    assert "docker-pass" in bold
