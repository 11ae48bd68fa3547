"""The plain env-file path that ``uses`` and ``check`` take reads exactly what the dotenv
parser reads, and leaves everything else to it."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core.docker.compose import _plain_env_values
from docker_pass.core.envfiles import parse_env_text

_chars = st.sampled_from([*list("aZ_9.=#$\\'\" \t\x00\r/:-é"), "se://db/x", "\xa0", "\x1b"])
_line = st.lists(_chars, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_line, max_size=6).map("\n".join))
def test_plain_path_agrees_with_dotenv(text: str) -> None:
    fast = _plain_env_values(text)
    if fast is None:
        return
    assert fast == parse_env_text(text, Path("x.env"), inherit=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,8}", fullmatch=True),
            st.from_regex(r"[a-z0-9/:=.é-]{0,12}", fullmatch=True),
        ),
        max_size=6,
    )
)
def test_plain_files_take_the_plain_path(pairs: list[tuple[str, str]]) -> None:
    text = "# made\n" + "".join(f"{k}={v}\n" for k, v in pairs)
    fast = _plain_env_values(text)
    assert fast is not None
    assert fast == parse_env_text(text, Path("x.env"), inherit=False)


def test_anything_else_goes_to_the_parser() -> None:
    for text in ('A="x"', "A=x # c", "export A=x", " A=x", "A=$B", "A=x\r\n", "A", "A=a\\b"):
        assert _plain_env_values(text) is None, text
