"""Finding se:// references in Compose and env files, and checking them through a real engine."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, ClassVar

import pytest

from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.docker.compose import (
    INTERPOLATION_NOTE,
    ComposeFileError,
    FoundReference,
    check_references,
    default_files,
    find_references,
)
from docker_pass.core.engine import Engine
from docker_pass.core.plugin import READ_ONLY
from docker_pass.core.references.resolution import ReferenceStatus

if TYPE_CHECKING:
    import builtins
    from pathlib import Path

COMPOSE = """\
services:
  web:
    image: busybox
    environment:
      API_KEY: se://openai/api-key
      DATABASE_URL: postgres://u:se://x@h
      RETRIES: 3
      DEBUG: true
      FROM_SHELL:
    env_file: web.env
  worker:
    environment:
      - TOKEN=se://gh/token
      - PLAIN=hello
      - BARE
      - EQUALS=se://a=b
  idle:
"""


def rows(found: builtins.list[FoundReference]) -> builtins.list[tuple[str, str, str, str]]:
    return [(f.file.name, f.service, f.variable, f.target) for f in found]


def test_mapping_and_list_environments_and_an_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FROM_SHELL", raising=False)
    monkeypatch.delenv("BARE", raising=False)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    (tmp_path / "web.env").write_text("WEB_REF=se://web/ref\nWEB_PLAIN=x\n# se://comment\n")
    found = find_references([compose])
    assert rows([f for f in found if not f.lookup]) == [
        ("compose.yaml", "web", "API_KEY", "openai/api-key"),
        ("web.env", "web", "WEB_REF", "web/ref"),
        ("compose.yaml", "worker", "TOKEN", "gh/token"),
        ("compose.yaml", "worker", "EQUALS", "a=b"),
    ]
    # With nothing in the shell, `FROM_SHELL:` and `- BARE` reach the container empty: lookups
    # by name.
    assert rows([f for f in found if f.lookup]) == [
        ("compose.yaml", "web", "FROM_SHELL", "FROM_SHELL"),
        ("compose.yaml", "worker", "BARE", "BARE"),
    ]
    monkeypatch.setenv("FROM_SHELL", "from the shell")
    monkeypatch.setenv("BARE", "")
    assert rows([f for f in find_references([compose]) if f.lookup]) == [
        ("compose.yaml", "worker", "BARE", "BARE"),
    ]


def test_env_file_forms_are_relative_to_the_compose_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "env").mkdir(parents=True)
    (project / "env" / "one.env").write_text("ONE=se://one\n")
    (project / "two.env").write_text("TWO=se://two\n")
    (project / "three.env").write_text("THREE=se://three\n")
    (project / "compose.yml").write_text(
        "services:\n"
        "  a:\n    env_file: env/one.env\n"
        "  b:\n    env_file: [two.env, env/one.env]\n"
        "  c:\n    env_file:\n"
        "      - path: three.env\n"
        "      - path: absent.env\n        required: false\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    found = find_references([project / "compose.yml"])
    assert [(f.file, f.service, f.variable) for f in found] == [
        (project / "env" / "one.env", "a", "ONE"),
        (project / "two.env", "b", "TWO"),
        (project / "env" / "one.env", "b", "ONE"),
        (project / "three.env", "c", "THREE"),
    ]


def test_a_required_env_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    env_file:\n      - path: gone.env\n")
    with pytest.raises(ComposeFileError) as caught:
        find_references([compose])
    assert str(caught.value) == (
        f"env_file of service web in {compose} not found: {tmp_path / 'gone.env'}"
    )


def test_plain_env_files_have_no_service_and_bare_keys_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_SHELL", "se://shell/ref")
    env = tmp_path / ".env"
    env.write_text("A=se://a\nexport B='se://b/c'\nFROM_SHELL\nC=not se://c\n")
    assert rows(find_references([env])) == [(".env", "", "A", "a"), (".env", "", "B", "b/c")]


def test_a_file_is_compose_by_its_name_or_its_services(tmp_path: Path) -> None:
    named = tmp_path / "stack"
    named.write_text("services:\n  s:\n    environment: {K: se://k}\n")
    env_like = tmp_path / "vars.txt"
    env_like.write_text("K=se://k\n")
    empty_compose = tmp_path / "empty.yaml"
    empty_compose.write_text("name: nothing\n")
    assert rows(find_references([named, env_like, empty_compose])) == [
        ("stack", "s", "K", "k"),
        ("vars.txt", "", "K", "k"),
    ]


def test_interpolated_references_are_read_as_written_with_a_note(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  s:\n    environment:\n"
        "      A: se://${REALM}/key\n      B: ${REF}\n      C: se://plain\n"
    )
    found = find_references([compose])
    assert [(f.variable, f.target, f.note) for f in found] == [
        ("A", "${REALM}/key", INTERPOLATION_NOTE),
        ("C", "plain", ""),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "compose.yaml",
            "services:\n  web:\n    environment: [\n",
            "line 4, column 1: did not find expected node content",
        ),
        ("compose.yaml", "- a\n- b\n", "the top level must be a mapping, not a list"),
        ("compose.yml", "", "the top level must be a mapping, not empty"),
        ("compose.yaml", "services: [a]\n", "services must be a mapping, not a list"),
        ("compose.yaml", "services:\n  web: [1]\n", "service web must be a mapping, not a list"),
        (
            "compose.yaml",
            "services:\n  web:\n    environment: 3\n",
            "service web: environment must be a mapping or a list, not a int",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    environment: [{A: b}]\n",
            "service web: an environment list holds KEY=VALUE strings, not a mapping",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    env_file: [{required: true}]\n",
            "service web: an env_file entry is a path or a mapping with a path, not empty",
        ),
    ],
)
def test_bad_compose_files_are_one_clear_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    compose = tmp_path / name
    compose.write_text(text)
    with pytest.raises(ComposeFileError) as caught:
        find_references([compose])
    assert str(caught.value) == f"reading Compose file {compose}: {message}"


def test_missing_unreadable_and_bad_env_files(tmp_path: Path) -> None:
    with pytest.raises(ComposeFileError, match=r"^file not found: .*nothere\.env$"):
        find_references([tmp_path / "nothere.env"])
    with pytest.raises(ComposeFileError, match=r": is a directory$"):
        find_references([tmp_path])
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"A=\xff\n")
    with pytest.raises(ComposeFileError, match=r": not UTF-8 text$"):
        find_references([binary])
    bad = tmp_path / "bad.env"
    bad.write_text("A=ok\nnot a binding at all\n")
    with pytest.raises(ComposeFileError) as caught:
        find_references([bad])
    assert str(caught.value) == f"reading env-file {bad}: cannot parse line 2"


def test_default_files_pick_compose_as_compose_does_and_dotenv(tmp_path: Path) -> None:
    with pytest.raises(ComposeFileError) as caught:
        default_files(tmp_path)
    assert str(caught.value) == (
        "no Compose file (compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml) "
        f"and no .env in {tmp_path}"
    )
    (tmp_path / ".env").write_text("")
    assert default_files(tmp_path) == [tmp_path / ".env"]
    (tmp_path / "docker-compose.yaml").write_text("")
    assert default_files(tmp_path) == [tmp_path / "docker-compose.yaml", tmp_path / ".env"]
    (tmp_path / "docker-compose.yml").write_text("")
    assert default_files(tmp_path)[0] == tmp_path / "docker-compose.yml"
    (tmp_path / "compose.yml").write_text("")
    assert default_files(tmp_path)[0] == tmp_path / "compose.yml"
    (tmp_path / "compose.yaml").write_text("")
    assert default_files(tmp_path) == [tmp_path / "compose.yaml", tmp_path / ".env"]


def test_compose_files_walk_up_take_the_override_and_follow_compose_file(tmp_path: Path) -> None:
    from docker_pass.core.docker.compose import compose_files, project_env_file

    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    (tmp_path / "docker-compose.yaml").write_text("")
    (tmp_path / "docker-compose.override.yaml").write_text("")
    assert compose_files(below, {}) == [
        tmp_path / "docker-compose.yaml",
        tmp_path / "docker-compose.override.yaml",
    ]
    assert project_env_file(below, compose_files(below, {})) is None
    (tmp_path / ".env").write_text("")
    assert project_env_file(below, compose_files(below, {})) == tmp_path / ".env"
    (tmp_path / "a" / "compose.yml").write_text("")
    assert compose_files(below, {}) == [tmp_path / "a" / "compose.yml"]  # the nearest wins
    # COMPOSE_FILE names the files, relative to the folder, split at the separator given
    setting = {"COMPOSE_FILE": "x.yaml;;../y.yaml", "COMPOSE_PATH_SEPARATOR": ";"}
    assert compose_files(below, setting) == [below / "x.yaml", below / "../y.yaml"]


class StorePlugin:
    """A read-only plugin with fixed secrets; subclasses name it and give it secrets."""

    name = "store"
    version = "1.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY
    secrets: ClassVar[dict[str, bytes]] = {}
    resolves: ClassVar[builtins.list[str]] = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        return [SecretInfo(ID(k)) for k in self.secrets if pattern.matches(k)]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        type(self).resolves.append(pattern.value)
        return [Envelope(ID(k), v) for k, v in self.secrets.items() if pattern.matches(k)]


def plugin(name: str, secrets: dict[str, bytes]) -> type[StorePlugin]:
    return type(name, (StorePlugin,), {"name": name, "secrets": secrets, "resolves": []})


def test_check_by_runs_rules_through_a_real_engine(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  web:\n    environment:\n"
        "      A: se://app/key\n      B: se://app/missing\n"
        "      C: se://shared\n      D: se://app/*\n"
        "  worker:\n    environment: [E=se://app/key]\n"
    )
    first = plugin("first", {"app/key": b"VALUE-1", "shared": b"S1"})
    second = plugin("second", {"shared": b"S2"})
    with Engine(factories={"first": first, "second": second}) as engine:
        checked = check_references(find_references([compose]), engine.resolve)
    outcome = [
        (c.found.variable, c.result.status, c.result.provider, c.result.matched, c.failed)
        for c in checked
    ]
    assert outcome == [
        ("A", ReferenceStatus.RESOLVES, "first", ("first",), False),
        ("B", ReferenceStatus.NOT_FOUND, "", (), True),
        ("C", ReferenceStatus.AMBIGUOUS, "", ("first", "second"), True),
        ("D", ReferenceStatus.INVALID, "", (), True),
        ("E", ReferenceStatus.RESOLVES, "first", ("first",), False),
    ]
    assert checked[1].result.error == "secret not found: app/missing"
    assert checked[2].result.error == "2 secrets matched shared (first, second)"
    assert "is a wildcard" in checked[3].result.error
    # Each distinct reference is resolved once; no value is kept in what check returns.
    assert first.resolves == ["app/key", "app/missing", "shared"]
    assert "VALUE-1" not in repr(checked)
    assert all("VALUE-1" not in str(vars_of(c.result)) for c in checked)


def vars_of(item: object) -> dict[str, object]:
    slots: tuple[str, ...] = type(item).__slots__  # type: ignore[attr-defined]
    return {name: getattr(item, name) for name in slots}


def test_no_plugin_serving_the_id_is_not_found(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("X=se://elsewhere/key\n")
    narrow = type("narrow", (StorePlugin,), {"name": "narrow", "pattern": Pattern("app/**")})
    with Engine(factories={"narrow": narrow}) as engine:
        (checked,) = check_references(find_references([env]), engine.resolve)
    assert checked.result.status == ReferenceStatus.NOT_FOUND
    assert checked.result.error == "no plugin matches elsewhere/key"


def test_reading_compose_files_is_the_only_thing_that_loads_yaml(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services: {}\n")
    script = (
        "import sys, pathlib\n"
        "import docker_pass.core.docker.compose as c\n"
        "before = 'yaml' in sys.modules\n"
        "c.find_references([pathlib.Path(sys.argv[1])])\n"
        "print(before, 'yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(compose)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def test_secret_file_labels_are_references_and_the_mapping_form_is_dropped(
    tmp_path: Path,
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  listed:\n"
        "    labels:\n"
        "      - x-secret:db/password=/run/secrets/db\n"
        "      - com.example.team=platform\n"
        "  mapped:\n"
        "    labels:\n"
        "      x-secret:openai/api-key: /run/secrets/key\n"
        "      com.example.team: platform\n"
    )
    found = find_references([compose])
    assert [(f.service, f.variable, f.target, f.dropped) for f in found] == [
        ("listed", "x-secret:db/password=/run/secrets/db", "db/password", False),
        ("mapped", "x-secret:openai/api-key=/run/secrets/key", "openai/api-key", True),
    ]
    assert "list form" in found[1].note
    compose.write_text("services:\n  s:\n    labels: 3\n")
    with pytest.raises(ComposeFileError, match="labels must be a mapping or a list, not a int"):
        find_references([compose])
