"""Every bad input is one line (issue items 11 and 12), through the real executable.

No input a person can type, pipe or put in an env file ends in "internal error" or a traceback;
an argparse mistake is an ``Error:`` line with a hint; no message echoes more than ~200
characters of what it rejects.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

ID_RULE = "^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$"
#: The most of a rejected input a message may quote (core/errors.py QUOTE_LIMIT), and the
#: slack a message adds around it.
QUOTE_LIMIT = 200


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def one_error_line(
    *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    """Run a command that must fail with exactly one ``Error:`` line (and maybe hints)."""
    result = docker_pass(*args, input=input, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr[:500])
    text = result.stderr.decode("utf-8", "backslashreplace")
    lines = text.splitlines()
    assert lines, text
    assert lines[0].startswith("Error: "), text[:500]
    assert all(line.startswith("Hint: ") for line in lines[1:]), text[:500]
    assert "internal error" not in text
    assert "Traceback" not in text
    assert "usage:" not in text
    return lines[0]


# -- argparse mistakes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message", "help_of"),
    [
        (["get"], "the following arguments are required: NAME", "docker-pass get"),
        (
            ["ls", "--bogus"],
            "1 unexpected argument (not shown, in case one is a secret)",
            "docker-pass",
        ),
        (
            ["plugins", "enable"],
            "the following arguments are required: NAME",
            "docker-pass plugins enable",
        ),
    ],
)
def test_argparse_mistakes_are_one_error_line_with_a_help_hint(
    args: list[str], message: str, help_of: str
) -> None:
    result = docker_pass(*args)
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[0] == f"Error: {message}"
    assert len(lines) == 2
    assert lines[1] == f"Hint: run '{help_of} --help' for usage"
    assert result.stdout == b""


def test_an_unknown_verb_is_one_error_line_naming_the_verbs() -> None:
    line = one_error_line("frobnicate")
    assert line.startswith("Error: argument COMMAND: invalid choice: 'frobnicate' (choose from ")
    assert "'get'" in line


def test_help_still_exits_0() -> None:
    for args in (["--help"], ["get", "--help"], ["run", "-h"]):
        result = docker_pass(*args)
        assert result.returncode == 0, args
        assert result.stdout.startswith(b"usage: ")
        assert result.stderr == b""


def test_an_argparse_message_quotes_at_most_a_bounded_part_of_the_input() -> None:
    line = one_error_line("x" * 50_000)  # an unknown verb is quoted, cut short
    assert line.startswith("Error: argument COMMAND: invalid choice: 'xxx")
    assert "x" * 300 not in line  # the whole message is cut at 300 characters
    assert len(line) < 2 * QUOTE_LIMIT
    line = one_error_line("set", "a=b", "x" * 50_000)
    assert line == "Error: 1 unexpected argument (not shown, in case one is a secret)"


# -- values and metadata that are not text ---------------------------------------------------------


def test_a_non_utf8_inline_value_is_stored_byte_for_byte() -> None:
    # argv arrives surrogate-escaped; the bytes as typed are the value.
    set_ = docker_pass("set", os.fsdecode(b"bin=\xff\xfeok"))
    assert set_.returncode == 0, set_.stderr
    got = docker_pass("get", "--reveal", "bin")
    assert got.returncode == 0
    assert got.stdout == b"\xff\xfeok"


def test_a_non_utf8_metadata_flag_is_one_line() -> None:
    line = one_error_line("set", "--metadata", os.fsdecode(b"owner=\xff"), "k=v")
    assert line == 'Error: metadata "owner" is not UTF-8 text: metadata keys and values are text'
    assert docker_pass("get", "k").returncode == 1  # nothing was stored


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b'{"secret": "\\ud800"}',
            'Error: JSON "secret" holds a lone surrogate escape (such as \\ud800), which is not '
            "text; give a binary value as raw bytes on stdin instead",
        ),
        (
            b'{"secret": "x", "metadata": {"k": "a\\udc00"}}',
            'Error: JSON "metadata" "k" holds a lone surrogate escape (such as \\ud800): '
            "metadata keys and values are text",
        ),
        (
            b'{"secret": "x", "metadata": {"\\udbff": "v"}}',
            'Error: JSON "metadata" "\\udbff" holds a lone surrogate escape (such as \\ud800): '
            "metadata keys and values are text",
        ),
    ],
)
def test_lone_surrogates_in_stdin_json_are_one_line(document: bytes, message: str) -> None:
    assert one_error_line("set", "j", input=document) == message
    assert docker_pass("get", "j").returncode == 1


def test_json_nested_too_deep_to_parse_is_stored_as_the_raw_bytes() -> None:
    # Not a JSON document we can read, so (as for any non-JSON input) the bytes are the value.
    deep = b'{"secret": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    stored = docker_pass("set", "deep", input=deep)
    assert stored.returncode == 0, stored.stderr
    assert docker_pass("get", "--reveal", "deep").stdout == deep


# -- env files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"A=x\0y\n", "line 1 holds a NUL byte, which an environment variable cannot carry"),
        (b"OK=1\nA\0B=1\n", "line 2 holds a NUL byte, which an environment variable cannot carry"),
        (b"A=\xff\n", "not UTF-8 text"),
        (b"=value\n", "cannot parse line 1"),
    ],
)
def test_odd_env_file_lines_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    env_file = tmp_path / "odd.env"
    env_file.write_bytes(content)
    line = one_error_line("run", "--env-file", str(env_file), "--", "true")
    assert line == f"Error: reading env-file {env_file}: {message}"


def test_env_file_lines_without_a_value_or_with_only_spaces_are_accepted(tmp_path: Path) -> None:
    env_file = tmp_path / "loose.env"
    env_file.write_bytes(b"   \nINHERITED\n\nSET=1\n")
    result = docker_pass(
        "run",
        "--env-file",
        str(env_file),
        "--",
        "sh",
        "-c",
        'printf "%s|%s" "$INHERITED" "$SET"',
        env={"INHERITED": "from-env"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"from-env|1"


# -- very long IDs, patterns and references --------------------------------------------------------


def test_a_reference_of_100000_components_is_one_short_line(tmp_path: Path) -> None:
    # 100,000 components do not fit in one argv string (128 KiB); an env file carries them.
    long_id = "/".join(["a"] * 100_000)
    env_file = tmp_path / "long.env"
    env_file.write_text(f"X=se://{long_id}\nY=se://{long_id}/*\n")
    line = one_error_line("run", "--env-file", str(env_file), "--", "true")
    assert line.startswith("Error: resolving X: secret not found: a/a/a/")
    assert line.endswith("…")
    assert len(line) < 2 * QUOTE_LIMIT

    explain = docker_pass("run", "--explain", "--env-file", str(env_file))
    assert explain.returncode == 1
    x_line, y_line = explain.stderr.decode().splitlines()
    assert x_line.startswith("X: se://a/a/a/")
    assert "-> failed: secret not found: a/a/" in x_line
    assert y_line.startswith("Y: se://a/a/")
    assert f"must match {ID_RULE} (* at position 200001 is a wildcard" in y_line
    for text in (x_line, y_line):
        assert len(text) < 4 * QUOTE_LIMIT  # the reference and the error each quote ≤ 200


def test_long_ids_and_patterns_on_the_command_line() -> None:
    long_id = "/".join(["a"] * 60_000)  # as long as one argv string allows
    assert one_error_line("get", long_id).startswith("Error: secret not found: a/a/a/")
    invalid = one_error_line("get", long_id + "//")
    assert invalid.startswith('Error: invalid identifier: "a/a/a/')
    assert invalid.endswith(f'"… must match {ID_RULE} (an ID cannot end with /)')
    assert len(invalid) < 2 * QUOTE_LIMIT
    for pattern in (long_id, "/".join(["**", "a"] * 20_000), "/".join(["*"] * 60_000)):
        listed = docker_pass("ls", pattern)
        assert listed.returncode == 0, listed.stderr[:500]
        assert listed.stdout == b""
    bad_pattern = one_error_line("ls", long_id + "/a#b")
    assert bad_pattern.startswith('Error: invalid pattern "a/a/')
    assert len(bad_pattern) < 2 * QUOTE_LIMIT


def test_a_long_pattern_is_compared_with_a_plugins_scope_without_a_limit(
    isolated_home: Path,
) -> None:
    # A plugin with a narrowed scope makes the engine compare the two patterns; the overlap
    # test walks iteratively, so a pattern of 40,000 components is answered, not refused.
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"plugins": {"docker-pass": {"pattern": "kc/**"}}}))
    assert docker_pass("set", "kc/a=1").returncode == 0
    assert docker_pass("ls", "--all-plugins").stdout == b"kc/a\n"
    pattern = "/".join(["**", "a"] * 20_000)
    result = docker_pass("ls", "--all-plugins", pattern)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    result = docker_pass("ls", "--all-plugins", "/".join(["**"] * 40_000 + ["a"]))
    assert (result.returncode, result.stdout) == (0, b"kc/a\n"), result.stderr


def test_explain_reports_every_reference_then_exits_1() -> None:
    assert docker_pass("set", "good=s3cr3t-value").returncode == 0
    env = {"A": "se://good", "B": "se://missing", "C": "se://a//b", "D": "se://x/*"}
    result = docker_pass("run", "--explain", "--", "true", env=env)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        "A: se://good -> provider docker-pass (asked: docker-pass; answered: docker-pass)",
        "B: se://missing -> failed: secret not found: missing "
        "(asked: docker-pass; answered: docker-pass)",
        f'C: se://a//b -> failed: invalid identifier: "a//b" must match {ID_RULE} '
        "(component 2 is empty)",
        f'D: se://x/* -> failed: invalid identifier: "x/*" must match {ID_RULE} '
        "(* at position 3 is a wildcard: an ID names one secret)",
    ]
    fine = docker_pass("run", "--explain", env={"A": "se://good"})
    assert fine.returncode == 0
    assert fine.stderr == (
        b"A: se://good -> provider docker-pass (asked: docker-pass; answered: docker-pass)\n"
    )
    assert b"s3cr3t-value" not in result.stderr + fine.stderr
