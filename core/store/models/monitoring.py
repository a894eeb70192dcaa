"""What the server observes about itself: statistics time series and the clients it saw."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import NAME_LENGTH, Base, BigIntegerKey, UTCDateTime


class MonitoringStats(Base):
    """One measurement of a statistic (SimpleStats / EventCounter periodic tasks)."""

    __tablename__ = "monitoring_stats"
    __table_args__ = (UniqueConstraint("stats_key", "timestamp"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    stats_key: Mapped[str] = mapped_column(String(128))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[int] = mapped_column(BigInteger)


class ClientApplication(Base):
    """A client (by IP and User-Agent type, e.g. PAM or FreeRADIUS) that sent an
    authentication request, per node so that nodes do not contend for one row."""

    __tablename__ = "client_application"
    __table_args__ = (UniqueConstraint("ip", "clienttype", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(50))
    hostname: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    clienttype: Mapped[str] = mapped_column(String(NAME_LENGTH))
    node: Mapped[str] = mapped_column(String(NAME_LENGTH))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
