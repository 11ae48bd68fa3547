"""The expiry rule: ``expires`` metadata as an ISO date or datetime, relative to an injected now."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from docker_pass.core.expiry import SOON_DAYS, ExpiryState, expiry_of, parse_expires

TODAY = date(2026, 12, 1)
NOON_UTC = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def state(text: str, now: date | datetime = TODAY) -> ExpiryState:
    expiry = expiry_of({"expires": text}, now)
    assert expiry is not None
    return expiry.state


def test_no_expires_key_means_no_expiry() -> None:
    assert expiry_of({"owner": "alice"}, TODAY) is None
    assert expiry_of({}, TODAY) is None


def test_a_past_date_is_expired_with_the_days_since() -> None:
    expiry = expiry_of({"expires": "2026-01-31"}, TODAY)
    assert expiry is not None
    assert expiry.state == ExpiryState.EXPIRED
    assert expiry.is_expired
    assert expiry.days == -304
    assert expiry.mark() == "expired"
    assert expiry.describe() == "2026-01-31 (expired 304 days ago)"


def test_a_date_is_valid_through_its_whole_day() -> None:
    assert state("2026-12-01") == ExpiryState.SOON
    today = expiry_of({"expires": "2026-12-01"}, TODAY)
    assert today is not None
    assert today.mark() == "expires today"
    assert state("2026-11-30") == ExpiryState.EXPIRED


def test_within_fourteen_days_is_soon_and_later_is_ok() -> None:
    soon = (TODAY + timedelta(days=SOON_DAYS)).isoformat()
    later = (TODAY + timedelta(days=SOON_DAYS + 1)).isoformat()
    assert state(soon) == ExpiryState.SOON
    assert state(later) == ExpiryState.OK
    five = expiry_of({"expires": "2026-12-06"}, TODAY)
    assert five is not None
    assert (five.days, five.mark()) == (5, "expires in 5 d")
    assert five.describe() == "2026-12-06 (in 5 days)"
    ok = expiry_of({"expires": later}, TODAY)
    assert ok is not None
    assert ok.mark() == ""
    assert not ok.needs_attention


def test_a_datetime_expires_at_its_moment() -> None:
    assert state("2026-12-01T11:59:00Z", NOON_UTC) == ExpiryState.EXPIRED
    assert state("2026-12-01T12:30:00+00:00", NOON_UTC) == ExpiryState.SOON
    assert state("2027-06-01T00:00:00Z", NOON_UTC) == ExpiryState.OK
    # Another time zone: 13:30 in +02:00 is 11:30 UTC, before noon.
    assert state("2026-12-01T13:30:00+02:00", NOON_UTC) == ExpiryState.EXPIRED


def test_text_that_is_no_iso_date_is_unparsable() -> None:
    for text in ("next tuesday", "31/01/2026", "2026-13-01", "", "2026-02-30"):
        expiry = expiry_of({"expires": text}, TODAY)
        assert expiry is not None
        assert expiry.state == ExpiryState.UNPARSABLE, text
        assert expiry.days is None
        assert expiry.mark() == ""
    assert parse_expires("2026-01-31") == date(2026, 1, 31)
    assert parse_expires("nope") is None


def test_now_defaults_to_the_real_clock() -> None:
    past = expiry_of({"expires": "2000-01-01"})
    future = expiry_of({"expires": "2999-01-01"})
    assert past is not None
    assert future is not None
    assert (past.state, future.state) == (ExpiryState.EXPIRED, ExpiryState.OK)


def test_importing_the_module_does_not_import_datetime() -> None:
    code = "import sys, docker_pass.core.expiry; print('datetime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text", ["2026-01-31", "2026-01-31T00:00:00Z"])
def test_repr_shows_text_and_state(text: str) -> None:
    expiry = expiry_of({"expires": text}, TODAY)
    assert repr(expiry).startswith(f"Expiry({text!r}, expired")
