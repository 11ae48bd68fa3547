"""Addressing shared by the 1Password plugins: normalization, candidates, primary field, fields."""

from __future__ import annotations

import pytest

from docker_pass.backends.onepassword.items import (
    AMBIGUOUS,
    Field,
    Item,
    ItemIndex,
    NoPrimaryFieldError,
    field_matches,
    field_suffixes,
    normalize,
    primary_field,
    spelled_match,
)
from docker_pass.core import Pattern
from docker_pass.core.errors import PluginError

VAULT_ID = "k7xw2qpmz4nrd5t3hbvyc6ja2e"


def item(title: str, vault: str = "Private", id_: str = "abcdefghijklmnopqrstuvwxy1") -> Item:
    return Item(id_, title, VAULT_ID, vault, "LOGIN", "1")


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("GitHub", "github"),
        ("My Vault", "my-vault"),
        ("Stripe API (Live)", "stripe-api-live"),
        ("Work & Ops", "work-_-ops"),
        ("a/b", "a_b"),
        ("AWS: prod!", "aws-prod"),
        ("dots.and_under-scores", "dots.and_under-scores"),
        ("Ünïcödé", "ncd"),
        ("tab\there", "tabhere"),
        ("((()))", ""),
        ("???", ""),
    ],
)
def test_normalize_follows_1password_reference_syntax(name: str, normalized: str) -> None:
    assert normalize(name) == normalized


def test_candidates_are_vault_name_then_vault_id_then_raw_id() -> None:
    assert item("GitHub").candidates() == [
        "private/github",
        f"{VAULT_ID}/github",
        "abcdefghijklmnopqrstuvwxy1",
    ]


def test_invalid_candidates_are_skipped() -> None:
    # A title with nothing left after normalization keeps only the raw ID.
    assert item("???").candidates() == ["abcdefghijklmnopqrstuvwxy1"]
    # A vault name with nothing left keeps the vault-ID form.
    assert item("GitHub", vault="☃").candidates() == [
        f"{VAULT_ID}/github",
        "abcdefghijklmnopqrstuvwxy1",
    ]
    # A raw ID that is not a valid ID component is skipped too.
    odd = Item("bad id/with slash", "Note", VAULT_ID, "Private")
    assert odd.candidates() == ["private/note", f"{VAULT_ID}/note"]


def test_metadata_names_the_item_without_values() -> None:
    meta = item("GitHub").metadata()
    assert meta == {
        "item_id": "abcdefghijklmnopqrstuvwxy1",
        "title": "GitHub",
        "vault": "Private",
        "vault_id": VAULT_ID,
        "category": "LOGIN",
    }


# -- primary field -------------------------------------------------------------------------


def test_primary_is_the_password_purpose_field_even_after_a_concealed_one() -> None:
    fields = [
        Field("pin", "pin", "CONCEALED", value="1234"),
        Field("password", "password", "CONCEALED", "PASSWORD", "pw"),
    ]
    assert primary_field(item("x"), fields).id == "password"


def test_primary_falls_back_to_the_first_concealed_field() -> None:
    fields = [
        Field("username", "username", "STRING", "USERNAME", "alice"),
        Field("a", "first", "CONCEALED", value="one"),
        Field("b", "second", "CONCEALED", value="two"),
    ]
    assert primary_field(item("x"), fields).label == "first"


def test_primary_falls_back_to_the_credential_field() -> None:
    fields = [
        Field("username", "username", "STRING", value="alice"),
        Field("credential", "credential", "STRING", value="c"),
    ]
    assert primary_field(item("x"), fields).id == "credential"


def test_no_primary_field_is_an_error_naming_the_item_never_a_value() -> None:
    fields = [Field("notesPlain", "notesPlain", "STRING", "NOTES", "very-secret-note")]
    with pytest.raises(NoPrimaryFieldError) as caught:
        primary_field(item("Server notes"), fields)
    message = str(caught.value)
    assert "'Server notes' (abcdefghijklmnopqrstuvwxy1) in vault 'Private'" in message
    assert "<vault>/<item>/<field>" in message
    assert "very-secret-note" not in message
    assert isinstance(caught.value, PluginError)


def test_field_repr_hides_the_value() -> None:
    field = Field("password", "password", "CONCEALED", "PASSWORD", "hunter2")
    assert "hunter2" not in repr(field)
    assert "hidden" in repr(field)


# -- field-level IDs -----------------------------------------------------------------------


def test_field_suffixes_cover_field_and_section_forms() -> None:
    username = Field("username", "username", "STRING", "USERNAME", "alice")
    recovery = Field("r1", "Recovery Code", "CONCEALED", "", "r", "s1", "Security")
    suffixes = field_suffixes([username, recovery])
    assert suffixes == {
        "username": username,
        "security/recovery-code": recovery,
        "recovery-code": recovery,
    }


def test_a_field_outside_sections_owns_the_short_form() -> None:
    top = Field("password", "password", "CONCEALED", "PASSWORD", "a")
    nested = Field("p2", "password", "CONCEALED", "", "b", "s1", "Old")
    suffixes = field_suffixes([nested, top])
    assert suffixes["password"] is top
    assert suffixes["old/password"] is nested


def test_two_fields_with_one_name_are_ambiguous() -> None:
    first = Field("a", "token", "CONCEALED", value="1")
    second = Field("b", "token", "CONCEALED", value="2")
    assert field_suffixes([first, second])["token"] is AMBIGUOUS
    with pytest.raises(PluginError, match="more than one field answers to private/x/token"):
        field_matches(Pattern("private/x/token"), "private/x", [first, second])
    assert field_matches(Pattern("private/x/*"), "private/x", [first, second]) == []


def test_a_section_without_label_is_named_by_its_id() -> None:
    field = Field("f", "api key", "STRING", "", "v", "add more", "")
    assert "add-more/api-key" in field_suffixes([field])


def test_field_matches_are_spelled_as_requested() -> None:
    fields = [Field("r1", "Recovery Code", "CONCEALED", "", "r", "s1", "Security")]
    found = field_matches(
        Pattern("Private/GitHub/Security/Recovery-Code"), "Private/GitHub", fields
    )
    assert [spelled for spelled, _ in found] == ["Private/GitHub/Security/Recovery-Code"]


# -- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "candidate", "spelled"),
    [
        ("Private/GitHub", "private/github", "Private/GitHub"),
        ("PRIVATE/*", "private/github", "PRIVATE/github"),
        ("**/GitHub", "private/github", "private/GitHub"),
        ("**", "private/github", "private/github"),
        ("private/gitlab", "private/github", None),
        ("*", "private/github", None),
    ],
)
def test_spelled_match_is_case_insensitive_and_keeps_the_request_spelling(
    pattern: str, candidate: str, spelled: str | None
) -> None:
    assert spelled_match(Pattern(pattern), candidate) == spelled
    if spelled is not None:
        assert Pattern(pattern).matches(spelled)


def test_index_answers_each_item_once_under_its_first_matching_candidate() -> None:
    index = ItemIndex([item("GitHub"), item("Wi-Fi", id_="abcdefghijklmnopqrstuvwxy2")])
    assert [m.id for m in index.items_matching(Pattern("**"))] == [
        "private/github",
        "private/wi-fi",
    ]
    by_vault_id = index.items_matching(Pattern(f"{VAULT_ID}/*"))
    assert [m.id for m in by_vault_id] == [f"{VAULT_ID}/github", f"{VAULT_ID}/wi-fi"]
    assert [m.id for m in index.items_matching(Pattern("ABCDEFGHIJKLMNOPQRSTUVWXY2"))] == [
        "ABCDEFGHIJKLMNOPQRSTUVWXY2"
    ]


def test_duplicate_titles_list_under_raw_ids_and_a_literal_request_is_refused() -> None:
    twins = ItemIndex([item("GitHub"), item("GitHub", id_="abcdefghijklmnopqrstuvwxyz")])
    assert [m.id for m in twins.items_matching(Pattern("**"))] == [
        "abcdefghijklmnopqrstuvwxy1",
        "abcdefghijklmnopqrstuvwxyz",
    ]
    with pytest.raises(PluginError) as caught:
        twins.items_matching(Pattern("Private/GitHub"))
    assert str(caught.value) == (
        "2 1Password items answer to Private/GitHub: use one of their item IDs "
        "(abcdefghijklmnopqrstuvwxy1, abcdefghijklmnopqrstuvwxyz)"
    )
    assert len(twins.items_matching(Pattern("abcdefghijklmnopqrstuvwxyz"))) == 1


def test_fields_are_asked_for_only_when_vault_and_item_are_literal() -> None:
    index = ItemIndex([item("GitHub")])
    assert [m.id for m in index.items_for_fields(Pattern("Private/GitHub/password"))] == [
        "Private/GitHub"
    ]
    assert [m.id for m in index.items_for_fields(Pattern(f"{VAULT_ID}/github/*"))] == [
        f"{VAULT_ID}/github"
    ]
    assert index.items_for_fields(Pattern("Private/GitHub")) == []
    assert index.items_for_fields(Pattern("**")) == []
    assert index.items_for_fields(Pattern("*/github/password")) == []
