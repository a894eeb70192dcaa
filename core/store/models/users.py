"""Realms, user resolvers, local administrators and per-user data kept beside the user stores.

Users themselves live in external stores (flat file, LDAP, SQL, ...); tesserad refers to
one by its (realm, resolver name, user id) and keeps no user table of its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import (
    NAME_LENGTH,
    TYPE_LENGTH,
    USER_ID_LENGTH,
    Base,
    KeyValueMixin,
    UTCDateTime,
)


class Realm(Base):
    """A named set of resolvers. Names are compared case-insensitively, so the core stores
    them lower-cased; at most one realm is the default (kept so by the core)."""

    __tablename__ = "realm"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    resolvers: Mapped[list[ResolverRealm]] = relationship(
        back_populates="realm", cascade="all, delete-orphan", passive_deletes=True
    )


class Resolver(Base):
    """A connection to a user store; ``rtype`` is e.g. ``passwdresolver`` or ``ldapresolver``."""

    __tablename__ = "resolver"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    rtype: Mapped[str] = mapped_column(String(TYPE_LENGTH))

    config: Mapped[list[ResolverConfig]] = relationship(
        back_populates="resolver", cascade="all, delete-orphan", passive_deletes=True
    )
    realms: Mapped[list[ResolverRealm]] = relationship(
        back_populates="resolver", cascade="all, delete-orphan", passive_deletes=True
    )


class ResolverConfig(KeyValueMixin, Base):
    """One resolver setting; bind passwords and the like have type ``password``."""

    __tablename__ = "resolver_config"
    __table_args__ = (UniqueConstraint("resolver_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolver_id: Mapped[int] = mapped_column(ForeignKey("resolver.id", ondelete="CASCADE"))

    resolver: Mapped[Resolver] = relationship(back_populates="config")


class ResolverRealm(Base):
    """A resolver's membership in a realm; the lowest ``priority`` (1-999) wins when a
    login name exists in several resolvers of the realm."""

    __tablename__ = "resolver_realm"
    __table_args__ = (UniqueConstraint("realm_id", "resolver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realm.id", ondelete="CASCADE"))
    resolver_id: Mapped[int] = mapped_column(ForeignKey("resolver.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int | None] = mapped_column(Integer)

    realm: Mapped[Realm] = relationship(back_populates="resolvers")
    resolver: Mapped[Resolver] = relationship(back_populates="realms")


class Admin(Base):
    """A local administrator (``tesserad-manage admin``); ``password_hash`` is argon2id
    over a peppered HMAC, so a database administrator cannot plant a known password."""

    __tablename__ = "admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(NAME_LENGTH))
    email: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomUserAttribute(KeyValueMixin, Base):
    """An attribute an admin or event handler set on a user, merged over the store's own
    attributes. Users may vanish from their store unnoticed, so rows can outlive them."""

    __tablename__ = "custom_user_attribute"
    __table_args__ = (UniqueConstraint("realm_id", "resolver", "user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realm.id", ondelete="CASCADE"))
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH))
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    # Shorter than elsewhere so the unique key stays within MariaDB's 3072-byte index limit.
    key: Mapped[str] = mapped_column(String(128))


class UserCache(Base):
    """Login name -> user id lookups, so that busy realms do not query the store every time
    (system setting ``UserCacheExpiration``)."""

    __tablename__ = "user_cache"
    __table_args__ = (Index(None, "used_login", "resolver"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    used_login: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH))
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PasswordReset(Base):
    """A recovery code sent to a user; only its peppered hash is kept."""

    __tablename__ = "password_reset"
    __table_args__ = (Index(None, "realm", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(NAME_LENGTH))
    username: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    realm: Mapped[str] = mapped_column(String(NAME_LENGTH))
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    email: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
