"""Change stamps: how N processes sharing one database notice configuration changes.

A writer bumps the stamp (a counter) in the same transaction as its change; readers keep
what they loaded together with the stamp's version and reload when it differs. A reader
looks at the stamp at most every ``interval`` seconds, which bounds how long another
process may act on old configuration; changes made by this process apply at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.store.models import ChangeStamp

T = TypeVar("T")

# How stale another process's change may be, at most, before this one sees it.
DEFAULT_INTERVAL = 1.0


def bump(session: Session, name: str, clock: Clock) -> None:
    """Mark ``name`` as changed, inside the caller's transaction."""
    changed = session.execute(
        update(ChangeStamp).where(ChangeStamp.name == name)
        .values(version=ChangeStamp.version + 1, changed_at=utc_datetime(clock)))
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ChangeStamp(name=name, version=1, changed_at=utc_datetime(clock)))
        session.flush()


def version(session: Session, name: str) -> int:
    return session.scalar(select(ChangeStamp.version).where(ChangeStamp.name == name)) or 0


class StampedCache(Generic[T]):
    """A value loaded from the store, reloaded when its change stamp moves."""

    def __init__(self, name: str, load: Callable[[Session], T], clock: Clock,
                 interval: float = DEFAULT_INTERVAL):
        self._name = name
        self._load = load
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version = -1
        self._checked_at = float("-inf")

    def get(self, session: Session) -> T:
        now = self._clock.now()
        with self._lock:
            if self._value is not None and now - self._checked_at < self._interval:
                return self._value
        current = version(session, self._name)
        with self._lock:
            if self._value is None or current != self._version:
                self._value = self._load(session)
                self._version = current
            self._checked_at = now
            return self._value

    def invalidate(self) -> None:
        """Forget the value: called by this process right after it changed the store."""
        with self._lock:
            self._value = None
