"""A fake ``onepassword.Client`` for the tests of the ``1password-sdk`` plugin.

Why a fake: the real client signs in to 1Password's servers with a service account token, and
those cannot be reached from the test machines.  This stand-in has the real client's surface —
``await FakeClient.authenticate(auth=…, integration_name=…, integration_version=…)``, then
``client.vaults.list()``, ``client.items.list(vault_id)``, ``client.items.get(vault_id,
item_id)`` and ``client.secrets.resolve("op://…")``, all coroutines — and answers with the
SDK's own pydantic models (``VaultOverview``, ``ItemOverview``, ``Item``, ``ItemField``,
``ItemSection`` from ``onepassword.types``), so names and types are the SDK's: vault ``title``,
field ``title`` and ``field_type`` (``Concealed``), categories such as ``Login``, notes outside
the fields.  Failures are plain ``Exception``\\ s with the SDK's messages, as the SDK raises them.

Data: the op-shaped items of ``$FAKE_OP_DATA`` (``onepassword_data.py``), converted.
``$FAKE_OP_SDK_TOKEN``: the only token accepted (any other fails as a malformed token does).
``$FAKE_OP_SDK_MODE``: ``revoked`` (every call fails with 401 Unauthorized, as for a revoked
token), ``slow`` (every call sleeps ``$FAKE_OP_DELAY`` seconds, default 3).
``$FAKE_OP_SDK_CALLS``: a file that gets one line per call.
"""

from __future__ import annotations

import asyncio
import os
from importlib import import_module
from typing import Any

from tests.support.fakes.onepassword_data import load_items

TOKEN_ENV = "FAKE_OP_SDK_TOKEN"
MODE_ENV = "FAKE_OP_SDK_MODE"
CALLS_ENV = "FAKE_OP_SDK_CALLS"

# The SDK's messages, as it raises them (a bare Exception whose text is the message).
INVALID_TOKEN = (
    "invalid service account token, please make sure you provide a valid service account "
    "token as parameter:  service account deserialization failed, please create another token"
)
REVOKED = (
    "error when retrieving vault metadata: http error: unexpected http status: 401 Unauthorized"
)
ITEM_NOT_FOUND = "error when retrieving item: item not found"

_CATEGORIES = {
    "LOGIN": "Login",
    "PASSWORD": "Password",
    "API_CREDENTIAL": "ApiCredentials",
    "SECURE_NOTE": "SecureNote",
    "SERVER": "Server",
    "DATABASE": "Database",
}
_FIELD_TYPES = {
    "STRING": "Text",
    "CONCEALED": "Concealed",
    "URL": "Url",
    "EMAIL": "Email",
    "PHONE": "Phone",
    "OTP": "Totp",
    "DATE": "Date",
    "MONTH_YEAR": "MonthYear",
    "MENU": "Menu",
}


def _types() -> Any:
    return import_module("onepassword.types")


def _record(call: str) -> None:
    path = os.environ.get(CALLS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(call + "\n")


async def _behave(call: str) -> None:
    _record(call)
    mode = os.environ.get(MODE_ENV, "")
    if "slow" in mode:
        await asyncio.sleep(float(os.environ.get("FAKE_OP_DELAY", "3")))
    if "revoked" in mode:
        raise Exception(REVOKED)  # noqa: TRY002 - the SDK raises bare Exception


def _stamps(item: dict[str, Any]) -> dict[str, str]:
    return {"createdAt": item["created_at"], "updatedAt": item["updated_at"]}


def _vaults(items: list[dict[str, Any]]) -> dict[str, str]:
    return {i["vault"]["id"]: i["vault"]["name"] for i in items}


def vault_overview(vault_id: str, title: str, count: int) -> Any:
    """An SDK ``VaultOverview``."""
    return _types().VaultOverview.model_validate(
        {
            "id": vault_id,
            "title": title,
            "description": "",
            "vaultType": "userCreated",
            "activeItemCount": count,
            "contentVersion": 1,
            "attributeVersion": 1,
            "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-01T00:00:00Z",
        }
    )


def _websites(item: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "url": u["href"],
            "label": u.get("label", "website"),
            "autofillBehavior": "AnywhereOnWebsite",
        }
        for u in item.get("urls", [])
    ]


def item_overview(item: dict[str, Any]) -> Any:
    """An SDK ``ItemOverview`` from an op-shaped item."""
    return _types().ItemOverview.model_validate(
        {
            "id": item["id"],
            "title": item["title"],
            "category": _CATEGORIES.get(item["category"], "Unsupported"),
            "vaultId": item["vault"]["id"],
            "websites": _websites(item),
            "tags": item.get("tags", []),
            **_stamps(item),
            "state": "active",
        }
    )


def full_item(item: dict[str, Any]) -> Any:
    """An SDK ``Item``: fields with ``title``/``fieldType``/``sectionId``, notes apart."""
    notes = ""
    fields: list[dict[str, Any]] = []
    for field in item.get("fields", []):
        if field.get("purpose") == "NOTES":
            notes = field.get("value", "")
            continue
        fields.append(
            {
                "id": field["id"],
                "title": field.get("label", ""),
                "sectionId": (field.get("section") or {}).get("id"),
                "fieldType": _FIELD_TYPES.get(field.get("type", ""), "Unsupported"),
                "value": field.get("value", ""),
            }
        )
    sections = [{"id": s["id"], "title": s.get("label", "")} for s in item.get("sections", [])]
    return _types().Item.model_validate(
        {
            "id": item["id"],
            "title": item["title"],
            "category": _CATEGORIES.get(item["category"], "Unsupported"),
            "vaultId": item["vault"]["id"],
            "fields": fields,
            "sections": sections,
            "notes": notes,
            "tags": item.get("tags", []),
            "websites": _websites(item),
            "version": item.get("version", 1),
            "files": [],
            **_stamps(item),
        }
    )


class FakeVaults:
    """``client.vaults``."""

    async def list(self) -> list[Any]:
        """Every vault the service account may read."""
        await _behave("vaults.list")
        items = load_items()
        return [
            vault_overview(vid, title, sum(1 for i in items if i["vault"]["id"] == vid))
            for vid, title in _vaults(items).items()
        ]


class FakeItems:
    """``client.items``."""

    async def list(self, vault_id: str, *filters: Any) -> list[Any]:
        """Overviews of a vault's items."""
        await _behave(f"items.list {vault_id}")
        return [item_overview(i) for i in load_items() if i["vault"]["id"] == vault_id]

    async def get(self, vault_id: str, item_id: str) -> Any:
        """One item with its fields."""
        await _behave(f"items.get {vault_id} {item_id}")
        for item in load_items():
            if item["vault"]["id"] == vault_id and item["id"] == item_id:
                return full_item(item)
        raise Exception(ITEM_NOT_FOUND)  # noqa: TRY002 - the SDK raises bare Exception


class FakeSecrets:
    """``client.secrets``."""

    async def resolve(self, secret_reference: str) -> str:
        """The value an ``op://vault/item/[section/]field`` reference names (names or IDs)."""
        await _behave("secrets.resolve")
        parts = secret_reference.removeprefix("op://").split("/")
        if len(parts) not in (3, 4):
            raise Exception("error resolving secret reference: invalid secret reference")  # noqa: TRY002
        vault, title, *rest = (p.lower() for p in parts)
        for item in load_items():
            if vault not in (item["vault"]["id"].lower(), item["vault"]["name"].lower()):
                continue
            if title not in (item["id"].lower(), item["title"].lower()):
                continue
            for field in item.get("fields", []):
                section = field.get("section") or {}
                names = (field["id"].lower(), field.get("label", "").lower())
                in_section = len(rest) == 1 or rest[0] in (
                    section.get("id", "").lower(),
                    section.get("label", "").lower(),
                )
                if rest[-1] in names and in_section:
                    return str(field.get("value", ""))
        raise Exception(  # noqa: TRY002 - the SDK raises bare Exception
            "error resolving secret reference: no item matched the secret reference query"
        )


class FakeClient:
    """The stand-in for ``onepassword.Client``."""

    def __init__(self) -> None:
        self.vaults = FakeVaults()
        self.items = FakeItems()
        self.secrets = FakeSecrets()
        self.integration = ("", "")

    @classmethod
    async def authenticate(
        cls, auth: str, integration_name: str, integration_version: str
    ) -> FakeClient:
        """Sign in; a token other than ``$FAKE_OP_SDK_TOKEN`` fails like a malformed one."""
        await _behave(f"authenticate {integration_name} {integration_version}")
        expected = os.environ.get(TOKEN_ENV)
        if expected is not None and auth != expected:
            raise Exception(INVALID_TOKEN)  # noqa: TRY002 - the SDK raises bare Exception
        client = cls()
        client.integration = (integration_name, integration_version)
        return client
