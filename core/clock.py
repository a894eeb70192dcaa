"""An injectable clock, so that TOTP, lockouts and expiry are tested without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the core needs to know about time."""

    def now(self) -> float:
        """Seconds since the epoch, as a float."""


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start: float = 1_700_000_000.0):
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = float(when)


def utc_datetime(clock: Clock) -> datetime:
    """The clock's time as an aware UTC datetime, for timestamps in the store."""
    return datetime.fromtimestamp(clock.now(), tz=UTC)
