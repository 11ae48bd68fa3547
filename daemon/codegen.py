"""Generate the engine API's code from ``proto/``: ``python -m docker_pass.daemon.codegen``.

The generated modules under ``gen/`` are committed, so installing docker-pass needs no
generator.  The generators are pinned in pyproject's ``test`` extra (``grpcio-tools`` supplies
``protoc`` and the well-known types; ``protoc-gen-py`` writes protobuf-py messages;
``protoc-gen-connectrpc`` writes the Connect stubs), and a test regenerates into a temporary
folder and compares, so ``gen/`` cannot drift from ``proto/``.

``--check`` compares instead of writing and exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE / "proto"
GEN_DIR = HERE / "gen"
#: The .proto files, relative to PROTO_DIR (their paths decide the generated module names).
PROTO_FILES = (
    "resolver/v1/api.proto",
    "plugins/v1/api.proto",
    "health/v1/api.proto",
    "dockerpass/v1/api.proto",
)


def generate(out: Path) -> None:
    """Run protoc with both plugins, writing the package tree into ``out``."""
    import grpc_tools  # type: ignore[import-untyped]  # the pinned protoc and well-known types

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    bin_dir = Path(sys.executable).parent
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--plugin=protoc-gen-py={bin_dir / 'protoc-gen-py'}",
            f"--plugin=protoc-gen-connectrpc={bin_dir / 'protoc-gen-connectrpc'}",
            f"--py_out={out}",
            f"--connectrpc_out={out}",
            *PROTO_FILES,
        ],
        check=True,
    )
    # A docstring for the root package (the generator writes an empty one), so the
    # folder explains itself to someone who opens it.
    (out / "__init__.py").write_text(
        '"""Generated from ../proto by ``python -m docker_pass.daemon.codegen``. DO NOT EDIT."""\n'
    )


def differences(expected: Path, actual: Path) -> list[str]:
    """Relative paths of the files that differ between two generated trees (ignoring caches)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        for name in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files:
            if name != "__pycache__":
                found.append(prefix + name)
        for name, sub in cmp.subdirs.items():
            if name != "__pycache__":
                walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(expected, actual, ignore=["__pycache__"]), "")
    return sorted(set(found))


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``gen/`` (or, with ``--check``, report whether it is stale)."""
    parser = argparse.ArgumentParser(prog="python -m docker_pass.daemon.codegen")
    parser.add_argument("--check", action="store_true", help="compare; write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "gen"
        generate(fresh)
        if args.check:
            stale = differences(fresh, GEN_DIR)
            for name in stale:
                print(f"stale: {name}", file=sys.stderr)
            return 1 if stale else 0
        shutil.rmtree(GEN_DIR, ignore_errors=True)
        shutil.copytree(fresh, GEN_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
