"""Enqueue, claim and settle outbox messages (``tesserad.core.outbox`` explains the flow)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from tesserad.core.audit import Auditor
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.outbox.channels import DeliveryError, load, split
from tesserad.core.security.base import SecurityModule
from tesserad.core.store.models import OutboxMessage
from tesserad.core.store.writes import begin_write

PENDING, SENT, FAILED = "pending", "sent", "failed"
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = 5
    # Seconds before the 2nd, 3rd, ... attempt; the last one repeats.
    retry_delays: tuple[float, ...] = (5, 30, 120, 600)
    # How long a claimed message stays with its sender; longer than any transport timeout,
    # so a message is only claimed again when its sender died.
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, ready for its transport."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, str] = field(repr=False)
    attempt: int
    lease: str
    settings: Any = field(repr=False)
    serial: str = ""
    transaction_id: str = ""

    @property
    def kind(self) -> str:
        return split(self.channel)[0]

    @property
    def identifier(self) -> str:
        return split(self.channel)[1]


def _context(channel: str, recipient: str) -> bytes:
    return f"outbox:{channel}:{recipient}".encode()


class Outbox:
    def __init__(self, security: SecurityModule, clock: Clock, auditor: Auditor,
                 settings: OutboxSettings | None = None):
        self._security = security
        self._clock = clock
        self._auditor = auditor
        self.settings = settings or OutboxSettings()

    def enqueue(self, session: Session, channel: str, recipient: str, payload: Mapping[str, str], *,
                serial: str = "", transaction_id: str = "", expires_at: datetime | None = None,
                max_attempts: int | None = None) -> int:
        """Add a message in the caller's transaction; its id. ``max_attempts`` overrides
        the configured number (a test message is tried once)."""
        now = utc_datetime(self._clock)
        row = OutboxMessage(channel=channel, recipient=recipient, serial=serial, transaction_id=transaction_id,
                            payload_enc=self._security.encrypt(json.dumps(dict(payload)).encode(),
                                                               context=_context(channel, recipient)),
                            state=PENDING, attempts=0, max_attempts=max_attempts or self.settings.max_attempts,
                            created_at=now, next_attempt_at=now, expires_at=expires_at, last_error="")
        session.add(row)
        session.flush()
        return row.id

    def claim(self, session: Session, limit: int, *, busy: Mapping[str, int] | None = None,
              per_channel: int | None = None) -> list[Outgoing]:
        """Lease up to ``limit`` due messages to the caller and commit; a channel with
        ``busy[channel] >= per_channel`` messages in flight gets none. Each lease is one
        conditional UPDATE, so of several processes claiming at once one wins each row."""
        now = utc_datetime(self._clock)
        until = now + timedelta(seconds=self.settings.lease_seconds)
        candidates = session.execute(
            select(OutboxMessage.id, OutboxMessage.channel)
            .where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now,
                   or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit * 4)).all()
        session.rollback()  # end the read transaction: the lease is a write transaction of its own
        counts = dict(busy or {})
        picked: list[int] = []
        for message_id, channel in candidates:
            if len(picked) >= limit:
                break
            if per_channel is None or counts.get(channel, 0) < per_channel:
                picked.append(message_id)
                counts[channel] = counts.get(channel, 0) + 1
        if not picked:
            return []
        return self._lease(session, picked, now, until)

    def _lease(self, session: Session, ids: list[int], now: datetime, until: datetime) -> list[Outgoing]:
        """One conditional UPDATE leases those of ``ids`` that are still free; the rows it
        won are read back by their lease, and the whole claim is one transaction."""
        lease = uuid.uuid4().hex
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.state == PENDING,
                   or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))
            .values(lease_owner=lease, lease_until=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(**_NO_SYNC))
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.lease_owner == lease)
                               .order_by(OutboxMessage.id)).all()
        settings: dict[str, Any] = {}
        claimed: list[Outgoing] = []
        for row in rows:
            try:
                if row.expires_at is not None and row.expires_at <= now:
                    raise DeliveryError("expired before it could be sent", permanent=True)
                if row.channel not in settings:
                    settings[row.channel] = load(session, self._security, row.channel)
            except DeliveryError as exc:
                self._finish(session, row, FAILED, str(exc), now)
                continue
            payload = json.loads(self._security.decrypt(row.payload_enc,
                                                        context=_context(row.channel, row.recipient)))
            claimed.append(Outgoing(row.id, row.channel, row.recipient, payload, row.attempts, lease,
                                    settings[row.channel], row.serial, row.transaction_id))
        session.commit()
        return claimed

    def settle(self, session: Session, results: list[tuple[Outgoing, DeliveryError | None]]) -> None:
        """Record the outcomes of several sends (None: delivered) in one transaction."""
        for message, error in results:
            if error is None:
                self.delivered(session, message)
            else:
                self.failed(session, message, error)
        session.commit()

    def delivered(self, session: Session, message: Outgoing) -> bool:
        """The transport accepted ``message``: mark it sent and audit it (the caller commits).
        False when the lease had expired and the row was no longer this sender's."""
        row = self._owned(session, message)
        if row is None:
            return False
        self._finish(session, row, SENT, "", utc_datetime(self._clock))
        return True

    def failed(self, session: Session, message: Outgoing, error: DeliveryError) -> str:
        """An attempt failed: schedule the next one or give up (audited); the new state."""
        row = self._owned(session, message)
        if row is None:
            return PENDING
        now = utc_datetime(self._clock)
        if error.permanent or row.attempts >= row.max_attempts:
            self._finish(session, row, FAILED, str(error), now)
            return FAILED
        delays = self.settings.retry_delays
        row.next_attempt_at = now + timedelta(seconds=delays[min(row.attempts, len(delays)) - 1])
        row.lease_owner, row.lease_until, row.last_error = None, None, str(error)
        self._audit(session, row, False, f"attempt {row.attempts} failed, retrying: {error}")
        return PENDING

    def _owned(self, session: Session, message: Outgoing) -> OutboxMessage | None:
        begin_write(session)
        return session.scalars(select(OutboxMessage).where(
            and_(OutboxMessage.id == message.id, OutboxMessage.lease_owner == message.lease,
                 OutboxMessage.state == PENDING)).with_for_update()).first()

    def _finish(self, session: Session, row: OutboxMessage, state: str, error: str, now: datetime) -> None:
        row.state, row.finished_at, row.last_error = state, now, error
        row.lease_owner, row.lease_until, row.payload_enc = None, None, b""
        self._audit(session, row, state == SENT,
                    f"sent (attempt {row.attempts})" if state == SENT else f"given up: {error}")

    def _audit(self, session: Session, row: OutboxMessage, success: bool, outcome: str) -> None:
        self._auditor.record(session, action="OUTBOX send", success=success, serial=row.serial,
                             info=f"{row.channel} to {row.recipient}: {outcome}",
                             action_detail=f"message {row.id} transaction {row.transaction_id}".strip())

    def purge(self, session: Session, older_than: timedelta) -> int:
        """Delete the messages that ended (sent or given up) more than ``older_than`` ago;
        their payload is gone already, the audit keeps their story. How many (caller commits)."""
        before = utc_datetime(self._clock) - older_than
        result = session.execute(delete(OutboxMessage).where(OutboxMessage.state.in_((SENT, FAILED)),
                                                             OutboxMessage.finished_at <= before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def failing(self, session: Session, channel: str, recipient: str | None = None) -> bool:
        """Whether the last attempt on ``channel`` (to ``recipient``, when given) failed (the
        server is down or refusing), so that a new challenge can say its message may not arrive."""
        query = select(OutboxMessage.state, OutboxMessage.last_error).where(OutboxMessage.channel == channel,
                                                                           OutboxMessage.attempts > 0)
        if recipient is not None:
            query = query.where(OutboxMessage.recipient == recipient)
        last = session.execute(query.order_by(OutboxMessage.id.desc()).limit(1)).first()
        return last is not None and last.state != SENT and bool(last.last_error)

    def state(self, session: Session, message_id: int) -> str | None:
        """The state of one message (tests, the challenge answer)."""
        return session.scalar(select(OutboxMessage.state).where(OutboxMessage.id == message_id))
