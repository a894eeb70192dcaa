"""Administrator accounts kept in the store (the spec's "internal admins").

Passwords are argon2id hashes over a peppered HMAC (SecretHasher). Checking a password
for an unknown name costs the same hash as for a known one, so response time does not
tell which admin names exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock, SystemClock, utc_datetime
from tesserad.core.errors import AdminError
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Admin

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class AdminInfo:
    username: str
    email: str | None
    created_at: datetime | None
    last_login_at: datetime | None


def _check_username(username: str) -> None:
    if not USERNAME_RE.match(username):
        raise AdminError("admin name must be 1-64 characters of letters, digits and . _ @ -, "
                         "starting with a letter or digit")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _get(session: Session, username: str) -> Admin:
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        raise AdminError(f"no admin named {username!r}")
    return admin


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Admin)) or 0


def add(session: Session, hasher: SecretHasher, username: str, password: str, *,
        email: str | None = None, clock: Clock | None = None) -> None:
    _check_username(username)
    _check_password(password)
    if session.scalar(select(Admin.id).where(Admin.username == username)) is not None:
        raise AdminError(f"an admin named {username!r} already exists")
    session.add(Admin(username=username, password_hash=hasher.hash(password), email=email,
                      created_at=utc_datetime(clock or SystemClock())))


def list_all(session: Session) -> list[AdminInfo]:
    rows = session.scalars(select(Admin).order_by(Admin.username))
    return [AdminInfo(a.username, a.email, a.created_at, a.last_login_at) for a in rows]


def delete(session: Session, username: str) -> None:
    session.delete(_get(session, username))


def set_password(session: Session, hasher: SecretHasher, username: str, password: str) -> None:
    _check_password(password)
    _get(session, username).password_hash = hasher.hash(password)


def exists(session: Session, username: str) -> bool:
    return session.scalar(select(Admin.id).where(Admin.username == username)) is not None


def login(session: Session, hasher: SecretHasher, username: str, password: str, clock: Clock) -> bool:
    """True when ``username`` is an active admin with this password; records the login
    time in the caller's transaction."""
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        return hasher.verify_nothing(password)
    if not hasher.verify(admin.password_hash, password) or not admin.active:
        return False
    admin.last_login_at = utc_datetime(clock)
    return True


def verify(session: Session, hasher: SecretHasher, username: str, password: str) -> bool:
    """True when the name exists and the password matches."""
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        return hasher.verify_nothing(password)
    return hasher.verify(admin.password_hash, password)

