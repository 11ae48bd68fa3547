"""The layers' import boundaries, checked for every module of every package.

Two checks, both over every module found in the package folders (nothing listed by hand):

- statically, every ``import`` a module holds — at the top or inside a function, where the
  fast path defers its imports — obeys its layer's rules (:data:`RULES`);
- at run time, importing a module in a fresh interpreter (a fork of one that has imported
  nothing of ours) loads no library its layer must not load, directly or through others
  (:data:`RUNTIME_RULES`).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.layout import LAYERS, ROOT

if TYPE_CHECKING:
    from pathlib import Path

UI_LIBRARIES = ("textual", "rich")
SERVER_LIBRARIES = ("uvicorn", "connectrpc", "protobuf", "pyqwest", "starlette", "h11")
BACKEND_SDKS = ("jeepney", "secretstorage", "pyrage", "keyring", "keyrings", "onepassword", "hvac")
HEAVY_FOR_FAST_PATH = (
    "textual",
    "rich",
    "keyring",
    "onepassword",
    "cryptography",
    "yaml",
    "hvac",
    "requests",
)

#: Layer -> the top-level packages or ``docker_pass`` subpackages its modules may not import.
RULES: dict[str, tuple[str, ...]] = {
    # core: the domain; no backend, no UI, no server, no other layer of ours.
    "core": (
        "docker_pass.backends",
        "docker_pass.cli",
        "docker_pass.tui",
        "docker_pass.daemon",
        *UI_LIBRARIES,
        *SERVER_LIBRARIES,
        *BACKEND_SDKS,
    ),
    # backends: core and their own SDK; no front, no UI, no server.
    "backends": (
        "docker_pass.cli",
        "docker_pass.tui",
        "docker_pass.daemon",
        *UI_LIBRARIES,
        *SERVER_LIBRARIES,
    ),
    # the fronts reach backends only through the plugin registry.
    "cli": ("docker_pass.backends", *SERVER_LIBRARIES, *UI_LIBRARIES, *BACKEND_SDKS),
    "tui": ("docker_pass.backends", "docker_pass.cli", "docker_pass.daemon", *SERVER_LIBRARIES),
    "daemon": ("docker_pass.backends", "docker_pass.cli", "docker_pass.tui", *UI_LIBRARIES),
}
#: Module -> libraries it may import although its layer's :data:`RULES` forbid them, inside a
#: function only: the runtime rules below still hold (importing the module loads none of them).
#: ``scan`` draws a Rich progress bar on a long scan.
LAZY_EXCEPTIONS: dict[str, tuple[str, ...]] = {"docker_pass.cli.scan_render": ("rich",)}
#: Layer -> libraries that importing any of its modules must not load (sys.modules).
RUNTIME_RULES: dict[str, tuple[str, ...]] = {
    "core": (*UI_LIBRARIES, *SERVER_LIBRARIES, "docker_pass.backends", "docker_pass.daemon"),
    "backends": (*UI_LIBRARIES, *SERVER_LIBRARIES),
    "cli": (*UI_LIBRARIES, *SERVER_LIBRARIES),
    "daemon": UI_LIBRARIES,
    "tui": SERVER_LIBRARIES,
}


def every_module() -> list[tuple[str, str, Path]]:
    """(layer, module name, file) for every module of every package folder."""
    found = []
    for folder, package in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append((folder, ".".join([package, *parts]), path))
    return found


MODULES = every_module()


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name ``path`` imports, anywhere in it (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def breaks(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def test_every_package_folder_is_walked() -> None:
    layers = {layer for layer, _, _ in MODULES}
    assert layers == set(LAYERS)
    # A guard against a walk that silently finds nothing: each layer has several modules.
    for layer in LAYERS:
        assert sum(1 for found, _, _ in MODULES if found == layer) >= 3, layer


@pytest.mark.parametrize(("layer", "module", "path"), MODULES, ids=[m for _, m, _ in MODULES])
def test_imports_obey_the_layer_rules(layer: str, module: str, path: Path) -> None:
    allowed = LAZY_EXCEPTIONS.get(module, ())
    bad = sorted(
        n
        for n in imported_names(module, path)
        if breaks(n, RULES[layer]) and not breaks(n, allowed)
    )
    assert not bad, f"{module} ({layer}) imports {bad}"


# Forks one clean interpreter per module: the parent has imported nothing of ours, and each
# child imports one module and reports what sys.modules then holds.  The parent then imports the
# standard-library modules that child loaded (never one a rule names: argv[2]), so the next
# children inherit them instead of importing them again; what they report is unchanged.
FORK_EACH = """
import importlib, json, os, sys
forbidden = tuple(json.loads(sys.argv[2]))
result = {}
for name in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(name)
            out = sorted(sys.modules)
        except BaseException as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 20):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    result[name] = json.loads(b"".join(chunks))
    for loaded in result[name] if isinstance(result[name], list) else ():
        if (
            loaded not in sys.modules
            and loaded.partition(".")[0] in sys.stdlib_module_names
            and not any(loaded == f or loaded.startswith(f + ".") for f in forbidden)
        ):
            try:
                importlib.import_module(loaded)
            except Exception:  # a warm-up only: the child imports it itself
                pass
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def loaded_by_module() -> dict[str, object]:
    names = [module for _, module, _ in MODULES]
    forbidden = {name for rule in RUNTIME_RULES.values() for name in rule}
    out = subprocess.run(
        [sys.executable, "-c", FORK_EACH, json.dumps(names), json.dumps(sorted(forbidden))],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(("layer", "module", "path"), MODULES, ids=[m for _, m, _ in MODULES])
def test_importing_a_module_loads_nothing_its_layer_forbids(
    layer: str, module: str, path: Path, loaded_by_module: dict[str, object]
) -> None:
    loaded = loaded_by_module[module]
    assert isinstance(loaded, list), f"importing {module} failed: {loaded}"
    bad = sorted({n for n in loaded if breaks(n, RUNTIME_RULES[layer])})
    assert not bad, f"importing {module} loads {bad[:10]}"


# -- the fast path -------------------------------------------------------------------------


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_version_fast_path_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from docker_pass.cli.main import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['version']) == 0\n"
    )
    loaded = top_level(modules_after(code))
    assert not loaded & set(HEAVY_FOR_FAST_PATH), loaded & set(HEAVY_FOR_FAST_PATH)
