"""The signed audit trail: one row per request (plus one per triggered event action).

Column widths are generous so that the writer rarely has to truncate; the signature
covers the values as stored, so the writer truncates before signing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import NAME_LENGTH, Base, BigIntegerKey, UTCDateTime


class AuditEntry(Base):
    """One audit row. Ids are consecutive per database, so a gap reveals a deleted row."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    date: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seconds the request took.
    duration: Mapped[float | None] = mapped_column(Float)
    signature: Mapped[str] = mapped_column(Text, default="")
    # e.g. "POST /validate/check", "EVENT sendmail"
    action: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    # ACCEPT, REJECT or CHALLENGE for authentication requests
    authentication: Mapped[str] = mapped_column(String(20), default="")
    # Comma-separated when several tokens took part (multi-challenge).
    serial: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", index=True)
    token_type: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    user: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", index=True)
    realm: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    resolver: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    administrator: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    action_detail: Mapped[str] = mapped_column(Text, default="")
    info: Mapped[str] = mapped_column(Text, default="")
    # The tesserad node that handled the request (privacyIDEA's ``privacyidea_server``).
    node: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    client: Mapped[str] = mapped_column(String(50), default="")
    user_agent: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    user_agent_version: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # tesserad version that wrote the row
    version: Mapped[str] = mapped_column(String(50), default="")
    loglevel: Mapped[str] = mapped_column(String(12), default="")
    clearance_level: Mapped[str] = mapped_column(String(12), default="")
    thread_id: Mapped[str] = mapped_column(String(50), default="")
    # Names of the policies that matched.
    policies: Mapped[str] = mapped_column(Text, default="")
