"""Tokens and what hangs off them: info, owners, realms and groups.

The counters the authentication engine races on (``count``, ``failcount``,
``count_auth*``) are columns, not tokeninfo strings, so that several processes can move
them with one atomic ``UPDATE ... WHERE`` instead of read-modify-write.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import (
    NAME_LENGTH,
    SERIAL_LENGTH,
    USER_ID_LENGTH,
    Base,
    KeyValueMixin,
    UTCDateTime,
)

if TYPE_CHECKING:
    from tesserad.core.store.models.users import Realm


class Token(Base):
    """One authenticator. ``secret_enc`` and the ``*_pin_enc`` columns hold security-module
    ciphertext; ``pin_hash`` holds the argon2 hash of the OTP PIN."""

    __tablename__ = "token"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), unique=True)
    tokentype: Mapped[str] = mapped_column(String(30), index=True)
    description: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    otplen: Mapped[int] = mapped_column(Integer, default=6)
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    pin_hash: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    # Enrollment policy ``encrypt_pin`` keeps the PIN recoverable instead of hashed.
    pin_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Second PINs some types carry (mOTP user PIN, smartcard SO PIN).
    user_pin_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    so_pin_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # HOTP: next counter to accept; TOTP: the time step after the last accepted one.
    # Never moves backwards: the engine advances it with a conditional UPDATE.
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    count_window: Mapped[int] = mapped_column(Integer, default=10)
    sync_window: Mapped[int] = mapped_column(Integer, default=1000)
    maxfail: Mapped[int] = mapped_column(Integer, default=10)
    failcount: Mapped[int] = mapped_column(Integer, default=0)
    # When failcount reached maxfail; starts the ``failcounter_clear_timeout``.
    failcount_exceeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    count_auth: Mapped[int] = mapped_column(BigInteger, default=0)
    count_auth_success: Mapped[int] = mapped_column(BigInteger, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # clientwait, pending, verify, enrolled, failed, broken, denied; "" means enrolled.
    rollout_state: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_auth_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    info: Mapped[list[TokenInfo]] = relationship(
        back_populates="token", cascade="all, delete-orphan", passive_deletes=True
    )
    owners: Mapped[list[TokenOwner]] = relationship(
        back_populates="token", cascade="all, delete-orphan", passive_deletes=True
    )
    realms: Mapped[list[Realm]] = relationship(secondary="token_realm", passive_deletes=True)
    groups: Mapped[list[TokenGroup]] = relationship(
        secondary="token_group_member", back_populates="tokens", passive_deletes=True
    )


class TokenInfo(KeyValueMixin, Base):
    """Type-specific token settings and state (hashlib, timeStep, validity period, ...)."""

    __tablename__ = "token_info"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"))

    token: Mapped[Token] = relationship(back_populates="info")


class TokenOwner(Base):
    """The user a token is assigned to. Users live in external stores, so a user is the
    (realm, resolver name, user id) triple, not a foreign key."""

    __tablename__ = "token_owner"
    __table_args__ = (
        UniqueConstraint("token_id", "realm_id", "resolver", "user_id"),
        # The authentication hot path: "tokens of this user".
        Index(None, "resolver", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"))
    # No cascade: a realm that still owns tokens cannot be deleted by accident.
    realm_id: Mapped[int] = mapped_column(ForeignKey("realm.id"), index=True)
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH))
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))

    token: Mapped[Token] = relationship(back_populates="owners")
    realm: Mapped[Realm] = relationship()


class TokenRealm(Base):
    """Extra realms a token belongs to (for realm admins), besides its owner's realm."""

    __tablename__ = "token_realm"

    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"), primary_key=True)
    realm_id: Mapped[int] = mapped_column(
        ForeignKey("realm.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TokenGroup(Base):
    """A named group of tokens, used by policies and event handlers."""

    __tablename__ = "token_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")

    tokens: Mapped[list[Token]] = relationship(
        secondary="token_group_member", back_populates="groups", passive_deletes=True
    )


class TokenGroupMember(Base):
    """Token <-> group link (n:m)."""

    __tablename__ = "token_group_member"

    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("token_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )
