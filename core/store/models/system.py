"""System-wide settings and the change stamps that keep N processes in step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import NAME_LENGTH, TYPE_LENGTH, Base, UTCDateTime


class Config(Base):
    """A system setting (``DefaultMaxFailCount``, ``splitAtSign``, ...); ``type`` is
    ``password`` when ``value`` is security-module ciphertext."""

    __tablename__ = "config"

    key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(TYPE_LENGTH), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class ChangeStamp(Base):
    """A named change marker (e.g. ``policy``, ``config``, ``realm``). Writers bump it in
    the same transaction as their change; every process compares ``version`` with the one
    it cached and reloads on a difference. ``version`` is a counter, not a time, so nodes
    with skewed clocks still notice every change."""

    __tablename__ = "change_stamp"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
