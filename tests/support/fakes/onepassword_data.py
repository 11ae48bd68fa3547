"""The 1Password items both fakes serve, in the shape of ``op item get --format json``.

The fake ``op`` derives ``op item list`` from these (dropping ``sections`` and ``fields``); the
fake SDK client turns them into the SDK's models.  Values are made up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: Environment variable naming the JSON fixture file both fakes read.
DATA_ENV = "FAKE_OP_DATA"
#: Where ``plugins 1password setup`` keeps the service account token, spelled out: tokens
#: stored by an earlier version must still be found.
TOKEN_ID = "docker/secrets-engine/plugins/1password-sdk/service-account-token"

PRIVATE = {"id": "k7xw2qpmz4nrd5t3hbvyc6ja2e", "name": "Private"}
WORK = {"id": "q3mfz6x2kd7pw4rtn5bhs8cy1u", "name": "Work & Ops"}

GITHUB_ID = "abcdefghijklmnopqrstuvwxy1"
STRIPE_ID = "abcdefghijklmnopqrstuvwxy2"
WIFI_ID = "abcdefghijklmnopqrstuvwxy3"
NOTES_ID = "abcdefghijklmnopqrstuvwxy4"
LEGACY_ID = "abcdefghijklmnopqrstuvwxy5"
ODD_ID = "abcdefghijklmnopqrstuvwxy6"

GITHUB_PASSWORD = "gh-pass-Secret1"
GITHUB_RECOVERY = "gh-recovery-Secret2"
STRIPE_KEY = "sk_live_Secret3"
WIFI_PASSWORD = "wifi-Secret4"
LEGACY_CREDENTIAL = "legacy-Secret5"
ODD_PASSWORD = "odd-Secret6"
NOTES_TEXT = "notes-Secret7"

_STAMP = {"created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-06-07T08:09:10Z"}


def _field(
    id_: str,
    label: str,
    type_: str,
    value: str,
    vault: dict[str, str],
    title: str,
    purpose: str = "",
    section: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A field as op prints it: no ``value`` key when empty, a ``reference`` op:// URI."""
    field: dict[str, Any] = {"id": id_, "type": type_}
    if purpose:
        field["purpose"] = purpose
    if section is not None:
        field["section"] = section
    field["label"] = label
    if value:
        field["value"] = value
    where = f"{section.get('label', section['id'])}/" if section else ""
    field["reference"] = f"op://{vault['name']}/{title}/{where}{label}"
    return field


def sample_items() -> list[dict[str, Any]]:
    """Six items over two vaults, covering each primary-field rule and odd names."""
    security = {"id": "k2q4security0000000000000", "label": "Security"}
    return [
        {
            "id": GITHUB_ID,
            "title": "GitHub",
            "version": 4,
            "vault": PRIVATE,
            "category": "LOGIN",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "additional_information": "alice",
            "urls": [{"label": "website", "primary": True, "href": "https://github.com"}],
            "tags": ["dev"],
            "sections": [{"id": "add more"}, security],
            "fields": [
                _field("username", "username", "STRING", "alice", PRIVATE, "GitHub", "USERNAME"),
                _field(
                    "password",
                    "password",
                    "CONCEALED",
                    GITHUB_PASSWORD,
                    PRIVATE,
                    "GitHub",
                    "PASSWORD",
                ),
                _field("notesPlain", "notesPlain", "STRING", "", PRIVATE, "GitHub", "NOTES"),
                _field(
                    "r3covery0000000000000000001",
                    "recovery code",
                    "CONCEALED",
                    GITHUB_RECOVERY,
                    PRIVATE,
                    "GitHub",
                    section=security,
                ),
            ],
        },
        {
            "id": STRIPE_ID,
            "title": "Stripe API (Live)",
            "version": 2,
            "vault": WORK,
            "category": "API_CREDENTIAL",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "additional_information": "ops@example.com",
            "sections": [],
            "fields": [
                _field(
                    "username", "username", "STRING", "ops@example.com", WORK, "Stripe API (Live)"
                ),
                _field(
                    "credential", "credential", "CONCEALED", STRIPE_KEY, WORK, "Stripe API (Live)"
                ),
                _field("type", "type", "MENU", "secret", WORK, "Stripe API (Live)"),
            ],
        },
        {
            "id": WIFI_ID,
            "title": "Wi-Fi",
            "version": 1,
            "vault": PRIVATE,
            "category": "PASSWORD",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "fields": [
                _field(
                    "password", "password", "CONCEALED", WIFI_PASSWORD, PRIVATE, "Wi-Fi", "PASSWORD"
                ),
                _field("notesPlain", "notesPlain", "STRING", "", PRIVATE, "Wi-Fi", "NOTES"),
            ],
        },
        {
            "id": NOTES_ID,
            "title": "Server notes",
            "version": 1,
            "vault": WORK,
            "category": "SECURE_NOTE",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "fields": [
                _field(
                    "notesPlain", "notesPlain", "STRING", NOTES_TEXT, WORK, "Server notes", "NOTES"
                ),
            ],
        },
        {
            "id": LEGACY_ID,
            "title": "Legacy token",
            "version": 7,
            "vault": WORK,
            "category": "API_CREDENTIAL",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "fields": [
                _field(
                    "credential", "credential", "STRING", LEGACY_CREDENTIAL, WORK, "Legacy token"
                ),
            ],
        },
        {
            "id": ODD_ID,
            "title": "???",
            "version": 1,
            "vault": PRIVATE,
            "category": "PASSWORD",
            "last_edited_by": "XJ3KZ7ABCDEFGHIJKLMNOPQRST",
            **_STAMP,
            "fields": [
                _field(
                    "password", "password", "CONCEALED", ODD_PASSWORD, PRIVATE, "???", "PASSWORD"
                ),
            ],
        },
    ]


def with_duplicate_title(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` plus a second item titled like the first, in the same vault, with its own ID."""
    twin = json.loads(json.dumps(items[0]))
    twin["id"] = twin["id"][:-1] + "z"
    for field in twin.get("fields", []):
        if "value" in field and field.get("type") == "CONCEALED":
            field["value"] = "twin-" + field["value"]
    return [*items, twin]


def write_fixture(path: Path, items: list[dict[str, Any]] | None = None) -> Path:
    """Write the fixture file both fakes read (``$FAKE_OP_DATA``)."""
    path.write_text(json.dumps({"items": sample_items() if items is None else items}))
    return path


def load_items() -> list[dict[str, Any]]:
    """The items of ``$FAKE_OP_DATA`` (none when it is unset)."""
    path = os.environ.get(DATA_ENV)
    if not path:
        return []
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = doc["items"]
    return items
