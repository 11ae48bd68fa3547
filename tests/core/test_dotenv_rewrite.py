"""The dotenv rewrite: each value's span found exactly, and nothing else touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core.envfiles import parse_env_text
from docker_pass.core.importing.dotenv_rewrite import RewriteError, entries_of, rewrite
from docker_pass.core.importing.naming import checked_prefix, component_of, default_prefix
from docker_pass.core.references.resolution import RunError

PATH = Path(".env")

#: A real-world-shaped .env: comments, export, quotes, escapes, multi-line values, '=' and '#'
#: inside values, CRLF lines, unicode, blank lines, bare KEY, KEY=, a reference already.
REAL_WORLD = (
    "\ufeff# Application settings\r\n"
    "\r\n"
    "export DATABASE_URL=postgres://app:p%40ss@db:5432/app?sslmode=require\r\n"
    'export  API_TOKEN = "tok-123 # not a comment"   # a comment\n'
    "SINGLE='it\\'s here'\n"
    'ESCAPED="line\\nnext \\"quoted\\" tab\\t"\n'
    'PRIVATE_KEY="-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"\n'
    "EQUALS=a=b=c==\n"
    "HASH=#not-a-comment\n"
    "EMPTY=\n"
    "EMPTY_COMMENT= # nothing here\n"
    "BARE\n"
    "ALREADY=se://shared/thing\n"
    "UNICODE=pässwörd-✓\n"
    "   INDENTED=value-with-spaces   \n"
    "LAST=no-newline-at-end"
)


def test_the_spans_are_exactly_the_values() -> None:
    entries = entries_of(REAL_WORLD, PATH)
    spans = {e.key: REAL_WORLD[e.start : e.end] for e in entries}
    assert spans["DATABASE_URL"] == "postgres://app:p%40ss@db:5432/app?sslmode=require"
    assert spans["API_TOKEN"] == '"tok-123 # not a comment"'
    assert spans["SINGLE"] == "'it\\'s here'"
    assert spans["PRIVATE_KEY"].count("\n") == 2
    assert spans["EQUALS"] == "a=b=c=="
    assert spans["HASH"] == "#not-a-comment"
    assert spans["EMPTY"] == spans["EMPTY_COMMENT"] == spans["BARE"] == ""
    assert spans["INDENTED"] == "value-with-spaces"
    assert spans["LAST"] == "no-newline-at-end"
    values = {e.key: e.value for e in entries}
    assert values["BARE"] is None
    assert values["SINGLE"] == "it's here"
    assert [e.line for e in entries][:2] == [3, 4]


def test_a_rewrite_changes_only_the_values_and_keeps_their_quotes() -> None:
    entries = entries_of(REAL_WORLD, PATH)
    index = {e.key: i for i, e in enumerate(entries)}
    chosen = ["DATABASE_URL", "API_TOKEN", "SINGLE", "PRIVATE_KEY", "HASH", "UNICODE", "LAST"]
    new = rewrite(REAL_WORLD, entries, {index[k]: f"se://app/{k.lower()}" for k in chosen}, PATH)
    assert new.startswith("\ufeff# Application settings\r\n\r\n")
    assert "export DATABASE_URL=se://app/database_url\r\n" in new
    assert 'export  API_TOKEN = "se://app/api_token"   # a comment\n' in new
    assert "SINGLE='se://app/single'\n" in new
    assert 'PRIVATE_KEY="se://app/private_key"\nEQUALS=a=b=c==\n' in new  # one line now
    assert "HASH=se://app/hash\n" in new
    assert "   INDENTED=value-with-spaces   \n" in new
    assert new.endswith("LAST=se://app/last")
    after = parse_env_text(new, PATH, inherit=False)
    before = parse_env_text(REAL_WORLD, PATH, inherit=False)
    for key, value in before.items():
        assert after[key] == (f"se://app/{key.lower()}" if key in chosen else value)
    # Undo by the same spans: the round trip is exact.
    assert rewrite(REAL_WORLD, entries, {}, PATH) == REAL_WORLD


def test_duplicate_keys_are_separate_entries() -> None:
    entries = entries_of("A=1\nA=2\n", PATH)
    assert [(e.key, e.value, e.line) for e in entries] == [("A", "1", 1), ("A", "2", 2)]


@pytest.mark.parametrize(
    "text",
    ["'A=B'=x\n", "A=\0\n", "A='unclosed\n"],
    ids=["equals in name", "NUL", "unclosed quote"],
)
def test_a_file_run_refuses_is_refused(text: str) -> None:
    with pytest.raises(RunError, match=r"reading env-file \.env: "):
        entries_of(text, PATH)


VALUE = st.text(st.characters(codec="utf-8", exclude_characters="\0\r"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(value=VALUE, quote=st.sampled_from(["", "'", '"']), tail=st.sampled_from(["", " # c"]))
def test_any_value_that_parses_is_rewritten_exactly(value: str, quote: str, tail: str) -> None:
    if quote == "'":
        written = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    elif quote == '"':
        written = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        written = value
    text = f"# head\nexport KEY={written}{tail}\nOTHER=kept\n"
    try:
        entries = entries_of(text, PATH)
    except RewriteError:
        return
    except RunError:
        return
    key = next(i for i, e in enumerate(entries) if e.key == "KEY")
    if not entries[key].value:
        return  # import leaves empty values alone
    new = rewrite(text, entries, {key: "se://a/key"}, PATH)
    assert parse_env_text(new, PATH, inherit=False)["KEY"] == "se://a/key"
    assert new.startswith("# head\nexport KEY=")
    assert new.endswith(f"{tail}\nOTHER=kept\n") or "\n" in value


def test_names_follow_the_documented_rule(tmp_path: Path) -> None:
    assert component_of("DB_PASSWORD") == "db_password"
    assert component_of("My App") == "my-app"
    assert component_of("a/b\\c*d") == "a-b-c-d"
    assert component_of("Clé.Über:x") == "cl-.-ber:x"
    folder = tmp_path / "My Project!"
    folder.mkdir()
    assert default_prefix(folder) == "my-project-"
    assert checked_prefix("team/api/") == "team/api"
    for bad in ("", "a//b", "/a", "a/*", "docker/secrets-engine", "docker/secrets-engine/x"):
        with pytest.raises(RunError.__mro__[1]):
            checked_prefix(bad)
