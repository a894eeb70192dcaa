"""Failed API logins, counted where every process sees them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import USER_ID_LENGTH, Base, UTCDateTime


class LoginFailure(Base):
    """Failed ``POST /auth`` logins of one user name or one client address (``kind``)
    since ``window_start``. Attempts are counted with one conditional UPDATE before the
    password is checked, so concurrent guesses on several processes cannot exceed the limit."""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
