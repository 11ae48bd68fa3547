"""One rule, one home: the names and the grammar every layer shares are spelled in one module.

Every module of every package folder is read (generated code aside).  A string that spells the
keychain plugin's or the program's name, the engine's realm, the ID grammar or the reference
scheme anywhere but its home fails here: import it from ``docker_pass.core.names`` or
``docker_pass.core.grammar`` instead.  Docstrings may mention them; code may not repeat them.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import pytest

from tests.support.layout import LAYERS, ROOT

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NAMES = "core/names.py"
GRAMMAR = "core/grammar.py"
SYNTAX = "core/references/syntax.py"


def sources() -> list[Path]:
    """Every module of the package folders but the generated protobuf/Connect code."""
    found = []
    for folder in LAYERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "__pycache__" in parts or parts[:2] == ("daemon", "gen"):
                continue
            found.append(path)
    return found


def strings(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, text)`` of each string constant of ``tree``, docstrings left out."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


TREES = {
    path.relative_to(ROOT).as_posix(): ast.parse(path.read_text("utf-8")) for path in sources()
}

#: What must be spelled in one module only: (what, its home, does a string constant spell it).
RULES: list[tuple[str, str, Callable[[str], bool]]] = [
    ("the keychain plugin's and the program's name", NAMES, lambda s: s == "docker-pass"),
    ("the engine's realm", NAMES, lambda s: "docker/secrets-engine" in s),
    ("the reference scheme", NAMES, lambda s: s == "se://"),
    ("the ID grammar", GRAMMAR, lambda s: "A-Za-z0-9._:-" in s or "A-Z a-z 0-9 . _ - :" in s),
    (
        "the ID characters",
        GRAMMAR,
        lambda s: "0123456789._:-" in s,  # (metadata keys have their own: no colon)
    ),
]


@pytest.mark.parametrize(("what", "home", "spells"), RULES, ids=[r[0] for r in RULES])
def test_spelled_in_its_home_only(what: str, home: str, spells: Callable[[str], bool]) -> None:
    places = [
        f"{name}:{line}"
        for name, tree in TREES.items()
        for line, text in strings(tree)
        if spells(text)
    ]
    assert places, f"{what} is spelled nowhere: the check reads nothing"
    assert {place.split(":")[0] for place in places} == {home}, f"{what} spelled at {places}"


def test_only_the_reference_syntax_tests_for_the_scheme() -> None:
    """``is_reference`` and ``reference_target`` answer "is this a reference": nobody else
    calls ``startswith`` on the scheme."""
    scheme_names = {"SCHEME", "REFERENCE_SCHEME", "SCHEME_BYTES", "_SCHEME_BYTES"}
    places = []
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "startswith"
                and node.args
            ):
                continue
            arg = node.args[0]
            if (isinstance(arg, ast.Name) and arg.id in scheme_names) or (
                isinstance(arg, ast.Constant) and arg.value in ("se://", b"se://")
            ):
                places.append(f"{name}:{node.lineno}")
    assert places, "the syntax module itself tests for the scheme: the check reads nothing"
    assert {place.split(":")[0] for place in places} == {SYNTAX}, places


def test_the_check_finds_a_second_copy(tmp_path: Path) -> None:
    """The rules above catch a copy: a module that spells the realm is found."""
    tree = ast.parse('"""A docstring: docker-pass."""\nREALM = "docker/secrets-engine/plugins"\n')
    found = [text for _, text in strings(tree)]
    assert found == ["docker/secrets-engine/plugins"]
    assert any(spells(found[0]) for _, _, spells in RULES)
