"""Messages waiting to be sent: email and SMS one-time passwords and notifications.

A row is written in the transaction of the challenge that needs it, so a message exists
exactly when its challenge does; a sender in any process claims it with a lease and
delivers it. The payload holds the OTP, so it is security-module ciphertext, wiped once
the message is sent or given up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import (
    NAME_LENGTH,
    SERIAL_LENGTH,
    USER_ID_LENGTH,
    Base,
    BigIntegerKey,
    UTCDateTime,
)


class OutboxMessage(Base):
    """One message for one recipient over one channel (``<kind>:<identifier>``, e.g.
    ``smtp:mail1``). ``state`` is pending, sent or failed; a pending row whose
    ``lease_until`` lies in the future is being sent by ``lease_owner``."""

    __tablename__ = "outbox_message"
    # The last attempt on a channel, and (push) on a channel to one recipient: Outbox.failing.
    __table_args__ = (Index(None, "state", "next_attempt_at"), Index(None, "channel", "id"),
                      Index(None, "channel", "recipient", "id"))

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    channel: Mapped[str] = mapped_column(String(NAME_LENGTH))
    recipient: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # What the message belongs to, for the audit: the token and the challenge's transaction.
    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), default="")
    transaction_id: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An OTP is useless after its challenge expired: the message is then given up, not sent.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
