"""Short-lived authentication state: open challenges and the authentication cache.

Both are shared by all processes through the database, so the second step of a
challenge may reach a different node than the first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import NAME_LENGTH, SERIAL_LENGTH, USER_ID_LENGTH, Base, UTCDateTime


class Challenge(Base):
    """A challenge issued to one token. All challenges of one request share the
    ``transaction_id`` (the RADIUS State). Rows refer to the token by serial, not by key:
    they expire within minutes and the janitor removes them, deleted token or not."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), index=True)
    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), index=True)
    challenge: Mapped[str] = mapped_column(Text, default="")
    # Type-specific state, e.g. the OTP of a concurrent SMS/email challenge.
    data: Mapped[str] = mapped_column(Text, default="")
    session: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # A correct answer arrived (what /validate/polltransaction reports).
    otp_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    received_count: Mapped[int] = mapped_column(Integer, default=0)


class AuthCache(Base):
    """A recent successful authentication (policy ``auth_cache``); ``password_hash`` is a
    hash of the password used, so a repeated login within the limits skips the token check."""

    __tablename__ = "auth_cache"
    __table_args__ = (Index(None, "username", "realm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    realm: Mapped[str] = mapped_column(String(NAME_LENGTH))
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH))
    client_ip: Mapped[str] = mapped_column(String(50), default="")
    user_agent: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    password_hash: Mapped[str] = mapped_column(String(NAME_LENGTH))
    first_auth_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_auth_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    auth_count: Mapped[int] = mapped_column(Integer, default=0)
