"""The authentication cache (authentication policy ``auth_cache``).

After a successful user authentication the credentials are remembered as a keyed hash
(an HMAC with the key file's pepper over user, realm, resolver and password: never the OTP
in clear, and useless without the key file); the same credentials are accepted again,
without a token check, while the entry is younger than the policy's age, not idle longer
than its idle limit and not used more often than its use limit. A hit is one conditional
UPDATE, so concurrent requests never exceed the use limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import AuthCache
from tesserad.core.users.base import User

MESSAGE = "Authenticated by AuthCache."
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_FORM = re.compile(r"(\d+)([smhd])(?:/(?:(\d+)([smhd])|(\d+)))?")


@dataclass(frozen=True)
class CacheLimit:
    """``4h`` (age), ``4h/5m`` (age and idle time) or ``2m/3`` (age and cached uses)."""

    age: timedelta
    idle: timedelta | None = None
    uses: int | None = None

    @classmethod
    def parse(cls, text: str) -> CacheLimit:
        found = _FORM.fullmatch(str(text).strip())
        if found is None:
            raise ValueError(f"auth_cache must look like 4h, 4h/5m or 2m/3, not {text!r}")
        amount, unit, idle, idle_unit, uses = found.groups()
        return cls(timedelta(**{_UNITS[unit]: int(amount)}),
                   timedelta(**{_UNITS[idle_unit]: int(idle)}) if idle else None,
                   int(uses) if uses else None)


def _digest(hasher: SecretHasher, user: User, password: str) -> str:
    return hasher.keyed_digest("\0".join(("auth_cache", user.login or "", user.realm or "",
                                          user.resolver or "", password)))


def hit(session: Session, hasher: SecretHasher, limit: CacheLimit, user: User, password: str,
        now: datetime) -> bool:
    """Whether ``password`` is cached for ``user`` within ``limit``; a hit counts one use."""
    conditions = [AuthCache.username == user.login, AuthCache.realm == user.realm,
                  AuthCache.resolver == user.resolver, AuthCache.password_hash == _digest(hasher, user, password),
                  AuthCache.first_auth_at > now - limit.age]
    if limit.idle is not None:
        conditions.append(AuthCache.last_auth_at > now - limit.idle)
    if limit.uses is not None:
        conditions.append(AuthCache.auth_count < limit.uses)
    found = session.execute(update(AuthCache).where(*conditions)
                            .values(auth_count=AuthCache.auth_count + 1, last_auth_at=now)
                            .execution_options(synchronize_session=False))
    return bool(found.rowcount)  # type: ignore[attr-defined]


def remember(session: Session, hasher: SecretHasher, limit: CacheLimit, user: User, password: str,
             now: datetime) -> None:
    """Cache a successful authentication; the user's entries past the age go."""
    session.execute(delete(AuthCache).where(AuthCache.username == user.login, AuthCache.realm == user.realm,
                                            AuthCache.first_auth_at <= now - limit.age)
                    .execution_options(synchronize_session=False))
    session.add(AuthCache(username=user.login, realm=user.realm, resolver=user.resolver,
                          password_hash=_digest(hasher, user, password), first_auth_at=now,
                          last_auth_at=now, auth_count=0))
