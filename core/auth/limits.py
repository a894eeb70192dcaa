"""Authorization limits the engine applies after the token check: ``auth_max_success`` and
``auth_max_fail`` (per user and period, counted from the audit trail, so they add up across
nodes) and ``last_auth`` (a token unused for too long)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from tesserad.core.store.models import AuditEntry
from tesserad.core.users.base import User

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*([smh])\s*", re.IGNORECASE)
_AGE = re.compile(r"\s*(\d+)\s*([hdy])\s*", re.IGNORECASE)
_RATE_UNITS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1)}
_AGE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "y": timedelta(days=365)}

# Audited authentications of one user with one outcome since a moment. The outcome column
# is written only for authentications, so admin actions and malformed requests never count.
_RECENT = select(func.count(AuditEntry.id)).where(
    AuditEntry.user == bindparam("login"), AuditEntry.realm == bindparam("realm"),
    AuditEntry.authentication == bindparam("outcome"), AuditEntry.date > bindparam("since"))


@dataclass(frozen=True)
class RateLimit:
    """``count`` per ``period``: written ``2/5m`` (the period in s, m or h)."""

    count: int
    period: timedelta

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        match = _RATE.fullmatch(text)
        if not match:
            raise ValueError(f"expected count/period like 2/5m, not {text!r}")
        return cls(int(match.group(1)), int(match.group(2)) * _RATE_UNITS[match.group(3).lower()])

    def reached(self, session: Session, user: User, outcome: str, now: datetime) -> bool:
        """Whether ``user`` had ``count`` audited authentications with ``outcome`` (ACCEPT or
        REJECT) within the period before ``now``."""
        found = session.scalar(_RECENT, {"login": user.login, "realm": user.realm, "outcome": outcome,
                                         "since": now - self.period})
        return int(found or 0) >= self.count


def parse_age(text: str) -> timedelta:
    """The ``last_auth`` value: ``12h``, ``123d`` or ``2y`` (a year is 365 days)."""
    match = _AGE.fullmatch(text)
    if not match:
        raise ValueError(f"expected an age like 12h, 123d or 2y, not {text!r}")
    return int(match.group(1)) * _AGE_UNITS[match.group(2).lower()]
