"""The declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

# Deterministic constraint names: Alembic can only alter or drop a constraint it can name,
# and SQLite's batch mode needs the names to rebuild tables. Keep rendered names within
# PostgreSQL's 63-character identifier limit (a test checks this).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths shared by several tables, so that a user id or a resolver name fits everywhere.
NAME_LENGTH = 255
SERIAL_LENGTH = 40
USER_ID_LENGTH = 320
TYPE_LENGTH = 64

# A 64-bit surrogate key for tables that grow without bound. SQLite only auto-increments
# an INTEGER PRIMARY KEY, hence the variant.
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores ``timestamptz``; SQLite and MariaDB have no time zones, so the value
    is stored as naive UTC and comes back with UTC attached. Naive datetimes are refused:
    a local wall-clock time slipping into the store would shift TOTP and expiry checks.
    Timestamps are always supplied by the core from its injectable clock.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name in ("mysql", "mariadb"):
            # Microseconds keep audit rows and challenges in order.
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of all tesserad tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class KeyValueMixin:
    """A typed key/value row, as used by the many ``*config``/``*info`` tables.

    ``type`` says how to read ``value``; type ``password`` means the value is ciphertext
    from the security module (text-encoded by the core), never plain text.
    """

    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(TYPE_LENGTH), default="")
    description: Mapped[str] = mapped_column(Text, default="")
