"""Ways a file of the file store gets damaged, shared by the backend and CLI tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.other_user import make_as_other_user

if TYPE_CHECKING:
    from pathlib import Path


def damage(path: Path, kind: str, tmp_path: Path) -> None:
    """Spoil one store file the way ``kind`` says (a crash, a tool, a person, another user)."""
    original = path.read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(original[: len(original) // 2])
    elif kind == "foreign":
        path.write_bytes(b'{"hello": "world"}\n' if path.suffix == ".json" else b"plain text\n")
    elif kind == "binary":
        path.write_bytes(b"\x00\xff\xfe binary")
    elif kind == "symlink":
        # A link to an intact copy: refused all the same, never followed.
        copy = tmp_path / f"outside-{path.name}"
        copy.write_bytes(original)
        path.unlink()
        path.symlink_to(copy)
    elif kind == "other-user":
        path.unlink()
        make_as_other_user(path, content=original)
    elif kind == "missing":
        path.unlink()
    else:  # pragma: no cover - a typo in a parametrization
        raise AssertionError(kind)
