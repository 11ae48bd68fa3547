"""When a secret expires: its ``expires`` metadata read as an ISO date or an ISO datetime.

One rule for every front: a secret whose expiry has passed is *expired*; one that expires
within :data:`SOON_DAYS` days is *expiring soon*; a later one is *ok*; text that is neither
an ISO date (``2026-01-31``) nor an ISO datetime (``2026-01-31T12:00:00Z``) is *unparsable*.
A date means the whole day: ``expires: 2026-01-31`` is still valid on 31 January.

On the CLI fast path (``ls``): ``datetime`` is imported only when a secret has an
``expires`` key, inside :func:`expiry_of`, so listing IDs never pays for it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime

#: The metadata key that holds the expiry.
EXPIRES_KEY = "expires"
#: An expiry this many days ahead (or fewer) is "expiring soon".
SOON_DAYS = 14


class ExpiryState(StrEnum):
    """How a secret's expiry stands relative to now."""

    EXPIRED = "expired"
    SOON = "soon"
    OK = "ok"
    UNPARSABLE = "unparsable"


class Expiry:
    """A secret's expiry: the metadata text, its state, and whole days left (``None`` when
    unparsable; negative once expired).  Slotted, not a dataclass: ``ls`` imports it."""

    __slots__ = ("days", "state", "text")

    def __init__(self, text: str, state: ExpiryState, days: int | None) -> None:
        self.text = text
        self.state = state
        self.days = days

    def __repr__(self) -> str:
        return f"Expiry({self.text!r}, {self.state.value}, days={self.days})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expiry):
            return NotImplemented
        return (self.text, self.state, self.days) == (other.text, other.state, other.days)

    def __hash__(self) -> int:
        return hash((self.text, self.state, self.days))

    @property
    def is_expired(self) -> bool:
        """Whether the expiry has passed."""
        return self.state == ExpiryState.EXPIRED

    @property
    def needs_attention(self) -> bool:
        """Expired or expiring soon: the fronts mark these."""
        return self.state in (ExpiryState.EXPIRED, ExpiryState.SOON)

    def mark(self) -> str:
        """A few words for a list line: ``expired``, ``expires today``, ``expires in 5 d``;
        ``""`` for an expiry that is far off (or unparsable)."""
        if self.state == ExpiryState.EXPIRED:
            return "expired"
        if self.state == ExpiryState.SOON:
            return "expires today" if self.days == 0 else f"expires in {self.days} d"
        return ""

    def describe(self) -> str:
        """A sentence for a detail view: the text and what it means now."""
        days = self.days
        if self.state == ExpiryState.UNPARSABLE or days is None:
            return f"{self.text} (not an ISO date or datetime)"
        if self.state == ExpiryState.EXPIRED:
            ago = -days
            when = "today" if ago == 0 else f"{ago} {plural_days(ago)} ago"
            return f"{self.text} (expired {when})"
        if days == 0:
            return f"{self.text} (expires today)"
        return f"{self.text} (in {days} {plural_days(days)})"


def plural_days(count: int) -> str:
    """``day`` or ``days``."""
    return "day" if count == 1 else "days"


def parse_expires(text: str) -> date | datetime | None:
    """``text`` as a date (``2026-01-31``) or a datetime (``2026-01-31T12:00:00+00:00``, a
    trailing ``Z`` included); ``None`` when it is neither."""
    from datetime import date, datetime

    text = text.strip()
    if len(text) == len("YYYY-MM-DD"):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def expiry_of(metadata: Mapping[str, str], now: date | datetime | None = None) -> Expiry | None:
    """The expiry of a secret with ``metadata``, relative to ``now`` (default: the local
    time now; a date means its first moment); ``None`` when it has no ``expires`` key."""
    text = metadata.get(EXPIRES_KEY)
    if text is None:
        return None
    from datetime import datetime

    if now is None:
        now = datetime.now().astimezone()
    elif not isinstance(now, datetime):
        now = datetime(now.year, now.month, now.day).astimezone()
    elif now.tzinfo is None:
        now = now.astimezone()
    when = parse_expires(text)
    if when is None:
        return Expiry(text, ExpiryState.UNPARSABLE, None)
    if isinstance(when, datetime):
        moment = when if when.tzinfo is not None else when.astimezone()
        expired = moment <= now
        day = moment.astimezone(now.tzinfo).date()
    else:
        day = when
        expired = day < now.date()
    days = (day - now.date()).days
    if expired:
        return Expiry(text, ExpiryState.EXPIRED, min(days, 0))
    if days <= SOON_DAYS:
        return Expiry(text, ExpiryState.SOON, days)
    return Expiry(text, ExpiryState.OK, days)
