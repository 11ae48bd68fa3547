"""Textual loads only for ``docker pass ui``: checked in fresh interpreters (``sys.modules``)."""

from __future__ import annotations

import pytest

from tests.support.layout import ROOT
from tests.test_boundaries import modules_after, top_level

#: Every module of the UI's model (tui/model/), found on disk: a new one is checked too.
MODEL_MODULES = sorted(
    f"docker_pass.tui.model.{path.stem}"
    for path in (ROOT / "tui" / "model").glob("*.py")
    if path.stem != "__init__"
)

RUN_MAIN = (
    "import contextlib, io\n"
    "from docker_pass.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
    "    try:\n"
    "        main({argv!r})\n"
    "    except SystemExit:\n"
    "        pass\n"
)


@pytest.mark.parametrize(
    "argv",
    [["version"], ["--help"], ["ui", "--help"], ["ls"], ["plugins", "ls"]],
    ids=" ".join,
)
def test_other_verbs_never_import_textual(argv: list[str]) -> None:
    loaded = top_level(modules_after(RUN_MAIN.format(argv=argv)))
    assert "textual" not in loaded


def test_importing_the_cli_and_the_ui_verb_module_imports_no_textual() -> None:
    loaded = modules_after("import docker_pass.cli.main, docker_pass.cli.commands.ui")
    assert "textual" not in top_level(loaded)


@pytest.mark.parametrize(
    "module",
    [
        "docker_pass.tui.model.realms",
        "docker_pass.tui.model.preview",
        "docker_pass.tui.model.gateway",
        "docker_pass.tui.demo",
        "docker_pass.tui.model.undo",
        "docker_pass.tui.text",
        "docker_pass.tui.watch",
        "docker_pass.tui.model.listing",
        "docker_pass.tui.threads",
    ],
)
def test_the_uis_plain_modules_are_plain(module: str) -> None:
    loaded = modules_after(f"import {module}")
    assert "textual" not in top_level(loaded)
    assert not {m for m in loaded if m.startswith("docker_pass.backends")}


@pytest.mark.parametrize("module", MODEL_MODULES)
def test_the_uis_model_imports_neither_textual_nor_rich(module: str) -> None:
    loaded = top_level(modules_after(f"import {module}"))
    assert "textual" not in loaded
    assert "rich" not in loaded


def test_the_model_modules_are_found() -> None:
    assert {"realms", "preview", "search", "listing", "undo", "gateway"} <= {
        m.rpartition(".")[2] for m in MODEL_MODULES
    }
