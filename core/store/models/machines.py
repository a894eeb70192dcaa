"""Machines and the tokens attached to them for an application (ssh, luks, offline).

Machines come from machine resolvers (hosts file, LDAP); a machine is the pair
(machine resolver, ``machine_id``), not a row of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import NAME_LENGTH, TYPE_LENGTH, Base, KeyValueMixin

if TYPE_CHECKING:
    from tesserad.core.store.models.tokens import Token


class MachineResolver(Base):
    """A source of machines; ``rtype`` is ``hosts`` or ``ldap``."""

    __tablename__ = "machine_resolver"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    rtype: Mapped[str] = mapped_column(String(TYPE_LENGTH))

    config: Mapped[list[MachineResolverConfig]] = relationship(
        back_populates="resolver", cascade="all, delete-orphan", passive_deletes=True
    )


class MachineResolverConfig(KeyValueMixin, Base):
    """One machine resolver setting; passwords have type ``password``."""

    __tablename__ = "machine_resolver_config"
    __table_args__ = (UniqueConstraint("resolver_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolver_id: Mapped[int] = mapped_column(ForeignKey("machine_resolver.id", ondelete="CASCADE"))

    resolver: Mapped[MachineResolver] = relationship(back_populates="config")


class MachineToken(Base):
    """A token attached to a machine for an application. Without a resolver and machine id
    the attachment holds for any machine (e.g. offline OTPs for every PAM host)."""

    __tablename__ = "machine_token"
    __table_args__ = (Index(None, "resolver_id", "machine_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"), index=True)
    resolver_id: Mapped[int | None] = mapped_column(
        ForeignKey("machine_resolver.id", ondelete="CASCADE")
    )
    machine_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    # ssh, luks, offline
    application: Mapped[str] = mapped_column(String(TYPE_LENGTH))

    token: Mapped[Token] = relationship()
    resolver: Mapped[MachineResolver | None] = relationship()
    options: Mapped[list[MachineTokenOption]] = relationship(
        back_populates="machine_token", cascade="all, delete-orphan", passive_deletes=True
    )


class MachineTokenOption(Base):
    """An application option of an attachment (ssh ``user``, offline ``count``/``rounds``)."""

    __tablename__ = "machine_token_option"
    __table_args__ = (UniqueConstraint("machine_token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_token_id: Mapped[int] = mapped_column(ForeignKey("machine_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[str] = mapped_column(Text, default="")

    machine_token: Mapped[MachineToken] = relationship(back_populates="options")
