"""Addressing shared by both 1Password plugins: normalization, candidate IDs, primary field.

Each item answers to up to three candidate IDs: its raw item ID, ``<vault-id>/<title>`` and
``<vault-name>/<title>``, where vault names and titles are normalized like 1Password's secret
reference syntax (spaces become ``-``, ``(`` and ``)`` go, ``/`` and ``&`` become ``_``, any other
character outside ``[a-zA-Z0-9-._]`` goes, then lowercase).  Candidates that are not valid IDs
are skipped.  Matching is case-insensitive: a request's literal components are compared
lowercased, and the answer is spelled the way the request spelled them, so the engine's own
(case-sensitive) check of the answers against the request keeps them.

Field-level IDs add ``<vault>/<item>/<field>`` and ``<vault>/<item>/<section>/<field>``.  They
are answered when a request names the vault and the item literally (its first two components
hold no wildcard), so that a pattern such as ``**`` never fetches every item of an account.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docker_pass.core.errors import PluginError
from docker_pass.core.ids import Pattern, is_valid_id, literal_positions
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

PASSWORD_PURPOSE = "PASSWORD"  # noqa: S105 - a field purpose, not a password
CONCEALED_TYPE = "CONCEALED"
CREDENTIAL_FIELD = "credential"

_DROPPED = re.compile(r"[^a-zA-Z0-9._-]")


def normalize(name: str) -> str:
    """A vault name, title, section or field label as an ID component (may be empty).

    >>> normalize("My Vault (Work) / A&B")
    'my-vault-work-_-a_b'
    """
    name = name.replace(" ", "-").replace("(", "").replace(")", "")
    name = name.replace("/", "_").replace("&", "_")
    return _DROPPED.sub("", name).lower()


def _component(name: str) -> str | None:
    """``name`` normalized, if it makes a valid single ID component."""
    normalized = normalize(name)
    return normalized if normalized and is_valid_id(normalized) else None


class Item(FrozenValue):
    """What the item list says of one item (no field, no value)."""

    __slots__ = (
        "category",
        "created_at",
        "id",
        "title",
        "updated_at",
        "vault_id",
        "vault_name",
        "version",
    )
    id: str
    title: str
    vault_id: str
    vault_name: str
    #: upper snake, as ``op`` spells it (``LOGIN``, ``API_CREDENTIAL``)
    category: str
    version: str
    created_at: datetime | None
    updated_at: datetime | None

    def __init__(
        self,
        id: str,
        title: str,
        vault_id: str,
        vault_name: str,
        category: str = "",
        version: str = "",
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        self._set("id", id)
        self._set("title", title)
        self._set("vault_id", vault_id)
        self._set("vault_name", vault_name)
        self._set("category", category)
        self._set("version", version)
        self._set("created_at", created_at)
        self._set("updated_at", updated_at)

    def __repr__(self) -> str:
        return f"Item({self.id!r}, {self.title!r}, vault={self.vault_name!r})"

    def describe(self) -> str:
        """How error messages name the item: title, vault and ID (never a value), as 1Password
        spells them, made safe to show (:func:`~docker_pass.core.outside.clean_outside`)."""
        from docker_pass.core.outside import clean_outside

        return clean_outside(f"{self.title!r} ({self.id}) in vault {self.vault_name!r}")

    def prefixes(self) -> list[str]:
        """The two-component forms ``<vault-name>/<title>`` and ``<vault-id>/<title>``."""
        title = _component(self.title)
        if title is None:
            return []
        out: list[str] = []
        for vault in (self.vault_name, self.vault_id):
            component = _component(vault)
            if component is not None and f"{component}/{title}" not in out:
                out.append(f"{component}/{title}")
        return out

    def candidates(self) -> list[str]:
        """Its candidate IDs, most readable first: vault name, vault ID, raw item ID."""
        out = self.prefixes()
        raw = self.id.lower()
        if raw and is_valid_id(raw) and "/" not in raw and raw not in out:
            out.append(raw)
        return out

    def metadata(self) -> dict[str, str]:
        """Value-free metadata for listings and envelopes."""
        out = {
            "item_id": self.id,
            "title": self.title,
            "vault": self.vault_name,
            "vault_id": self.vault_id,
        }
        if self.category:
            out["category"] = self.category
        if self.updated_at is not None:
            out["updated_at"] = self.updated_at.isoformat()
        return out


class Field(FrozenValue):
    """One field of an item.  Its ``repr`` never shows the value."""

    __slots__ = ("id", "label", "purpose", "section_id", "section_label", "type", "value")
    id: str
    label: str
    #: upper snake, as ``op`` spells it (``STRING``, ``CONCEALED``)
    type: str
    #: ``USERNAME``, ``PASSWORD``, ``NOTES`` or empty
    purpose: str
    value: str
    section_id: str
    section_label: str

    def __init__(
        self,
        id: str,
        label: str,
        type: str = "STRING",
        purpose: str = "",
        value: str = "",
        section_id: str = "",
        section_label: str = "",
    ) -> None:
        self._set("id", id)
        self._set("label", label)
        self._set("type", type)
        self._set("purpose", purpose)
        self._set("value", value)
        self._set("section_id", section_id)
        self._set("section_label", section_label)

    def __repr__(self) -> str:
        where = f", section={self.section_label or self.section_id!r}" if self.section_id else ""
        return f"Field({self.id!r}, {self.label!r}, {self.type}{where}, value=<hidden>)"

    def name_component(self) -> str | None:
        """The field as an ID component: its normalized label, else its normalized ID."""
        return _component(self.label) or _component(self.id)

    def section_component(self) -> str | None:
        """Its section as an ID component (label, else ID); ``None`` outside a section."""
        if not self.section_id and not self.section_label:
            return None
        return _component(self.section_label) or _component(self.section_id)


class NoPrimaryFieldError(PluginError):
    """Raised when an item has no field an item-level ID could resolve to."""


def primary_field(item: Item, fields: Sequence[Field]) -> Field:
    """The field an item-level ID resolves to.

    The field whose purpose is PASSWORD, else the first CONCEALED field, else the field called
    ``credential``; else :class:`NoPrimaryFieldError` naming the item (never a value).
    """
    for field in fields:
        if field.purpose == PASSWORD_PURPOSE:
            return field
    for field in fields:
        if field.type == CONCEALED_TYPE:
            return field
    for field in fields:
        if CREDENTIAL_FIELD in (field.id.lower(), field.label.lower()):
            return field
    raise NoPrimaryFieldError(
        f"1Password item {item.describe()} has no password, concealed or credential field: "
        "name one of its fields, as <vault>/<item>/<field>"
    )


#: Marks a field-level suffix that more than one field of an item answers to.
AMBIGUOUS: Field = Field("", "")


def field_suffixes(fields: Iterable[Field]) -> dict[str, Field]:
    """Field-level ID suffixes of one item: ``<field>`` and ``<section>/<field>``.

    A field outside any section owns ``<field>``; a field in a section owns
    ``<section>/<field>``, and ``<field>`` too when no other field claims that name.  A suffix
    that two fields claim at the same rank maps to :data:`AMBIGUOUS`.
    """
    fields = list(fields)
    out: dict[str, Field] = {}

    def claim(suffix: str, field: Field, owned: dict[str, Field]) -> None:
        owned[suffix] = AMBIGUOUS if suffix in owned and owned[suffix] is not field else field

    # Rank 1: <field> of fields outside sections, and <section>/<field>.
    for field in fields:
        name = field.name_component()
        if name is None:
            continue
        section = field.section_component()
        if section is None:
            if not field.section_id and not field.section_label:
                claim(name, field, out)
            continue
        claim(f"{section}/{name}", field, out)
    # Rank 2: <field> of fields in sections, where rank 1 left the name free.
    loose: dict[str, Field] = {}
    for field in fields:
        name = field.name_component()
        if name is None or (not field.section_id and not field.section_label):
            continue
        if name not in out:
            claim(name, field, loose)
    out.update(loose)
    return out


def spelled_match(pattern: Pattern, candidate: str) -> str | None:
    """``candidate`` spelled with ``pattern``'s literal components, if they match ignoring case.

    ``spelled_match(Pattern("Private/*"), "private/github") == "Private/github"``, an ID the
    request itself matches.
    """
    # Linear in the candidate whatever the pattern (no backtracking regex on request input).
    positions = literal_positions(pattern, candidate, ignore_case=True)
    if positions is None:
        return None
    literals = [c for c in pattern.components if c not in ("*", "**")]
    parts = candidate.split("/")
    for index, literal in zip(positions, literals, strict=True):
        parts[index] = literal
    return "/".join(parts)


class Match(FrozenValue):
    """One answer of an index lookup: the item and the ID it answers under."""

    __slots__ = ("id", "item")
    item: Item
    id: str

    def __init__(self, item: Item, id: str) -> None:
        self._set("item", item)
        self._set("id", id)

    def __repr__(self) -> str:
        return f"Match({self.id!r}, {self.item!r})"


class ItemIndex:
    """The cached item list, searchable by pattern."""

    __slots__ = ("_owners", "items")

    def __init__(self, items: Iterable[Item]) -> None:
        self.items = list(items)
        #: candidate ID -> how many items answer to it (titles repeat within a vault)
        self._owners: dict[str, int] = {}
        for item in self.items:
            for candidate in item.candidates():
                self._owners[candidate] = self._owners.get(candidate, 0) + 1

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"ItemIndex({len(self.items)} items)"

    def items_matching(self, pattern: Pattern) -> list[Match]:
        """Items with a candidate ID that ``pattern`` matches (ignoring case), one match each.

        Each item answers under its first matching candidate that no other item shares, else
        its first matching one.  A literal request that more than one item answers to is an
        error naming their item IDs, so that a person can pick one.
        """
        out: list[Match] = []
        for item in self.items:
            matched = [
                spelled
                for candidate in item.candidates()
                if (spelled := spelled_match(pattern, candidate)) is not None
            ]
            if not matched:
                continue
            unique = [spelled for spelled in matched if self._owners.get(spelled.lower(), 0) == 1]
            out.append(Match(item, (unique or matched)[0]))
        if pattern.is_literal and len(out) > 1:
            raise ambiguous_items(pattern.value, [m.item for m in out])
        return out

    def items_for_fields(self, pattern: Pattern) -> list[Match]:
        """Items whose fields ``pattern`` may address; ``Match.id`` is the item prefix as spelled.

        Only a request of three or more components whose first two are literal asks for fields.
        """
        components = pattern.components
        if len(components) < 3 or "*" in components[:2] or "**" in components[:2]:
            return []
        prefix = "/".join(components[:2])
        wanted = prefix.lower()
        out = [Match(item, prefix) for item in self.items if wanted in item.prefixes()]
        if len(out) > 1:
            raise ambiguous_items(prefix, [m.item for m in out])
        return out


def ambiguous_items(request: str, items: Sequence[Item]) -> PluginError:
    """The error for a request that several items answer to (names their IDs, no values)."""
    from docker_pass.core.outside import clean_outside

    ids = clean_outside(", ".join(item.id for item in items))  # as 1Password spells them
    return PluginError(
        f"{len(items)} 1Password items answer to {request}: use one of their item IDs ({ids})"
    )


def field_matches(
    pattern: Pattern, prefix: str, fields: Sequence[Field]
) -> list[tuple[str, Field]]:
    """``(ID as spelled, field)`` for the item's fields that ``pattern`` addresses.

    A literal request for a suffix that several fields share raises :class:`PluginError`;
    wildcard requests skip such suffixes.
    """
    out: list[tuple[str, Field]] = []
    for suffix, field in field_suffixes(fields).items():
        spelled = spelled_match(pattern, f"{prefix.lower()}/{suffix}")
        if spelled is None:
            continue
        if field is AMBIGUOUS:
            if pattern.is_literal:
                raise PluginError(
                    f"more than one field answers to {pattern.value}: "
                    "add the section, as <vault>/<item>/<section>/<field>"
                )
            continue
        out.append((spelled, field))
    return out
