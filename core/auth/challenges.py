"""Open challenges, shared through the database so the answer may reach another node.

A transaction id is 20 random decimal digits (privacyIDEA's format, which RADIUS clients
carry in State). Answering deletes every challenge of the transaction in the same
transaction as the success, so a transaction can be answered only once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from tesserad.core.store.models import Challenge, Token
from tesserad.core.tokens.base import ChallengeSpec, ParameterError

TRANSACTION_ID_DIGITS = 20
SORT_COLUMNS = ("id", "serial", "transaction_id", "created_at", "expires_at")


def new_transaction_id() -> str:
    return str(secrets.randbelow(10 ** TRANSACTION_ID_DIGITS)).zfill(TRANSACTION_ID_DIGITS)


def is_transaction_id(value: str) -> bool:
    return len(value) <= 64 and value.isascii() and value.isalnum()


def create(session: Session, transaction_id: str, serial: str, spec: ChallengeSpec, now: datetime,
           validity: int, *, step: int = 0) -> Challenge:
    """Store a challenge; ``step`` numbers the challenges of a multi-step authentication."""
    row = Challenge(transaction_id=transaction_id, serial=serial, challenge=spec.challenge, data=spec.data,
                    session=str(step) if step else "", created_at=now,
                    expires_at=now + timedelta(seconds=spec.validity or validity))
    session.add(row)
    return row


def live(session: Session, transaction_id: str, now: datetime) -> dict[str, Challenge]:
    """The unexpired challenges of a transaction, by serial."""
    rows = session.scalars(select(Challenge).where(Challenge.transaction_id == transaction_id,
                                                   Challenge.expires_at > now))
    return {row.serial: row for row in rows}


def count_attempt(session: Session, challenge_id: int) -> None:
    session.execute(update(Challenge).where(Challenge.id == challenge_id)
                    .values(received_count=Challenge.received_count + 1))


def finish(session: Session, transaction_id: str) -> bool:
    """Delete the transaction's challenges; False if another request already did (so only
    one answer to a transaction can ever succeed)."""
    result = session.execute(delete(Challenge).where(Challenge.transaction_id == transaction_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def step(challenge: Challenge) -> int:
    """The number of a challenge in its multi-step authentication (0 for the first)."""
    return int(challenge.session or 0)


def advance(session: Session, answered: Challenge) -> bool:
    """Delete the answered step of a multi-step challenge (the caller creates the next step
    in the same transaction); False if another request already did. The step number is
    part of the condition: SQLite may give the next step the id this one had."""
    result = session.execute(delete(Challenge).where(Challenge.id == answered.id,
                                                     Challenge.session == answered.session)
                             .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def answered(session: Session, transaction_id: str, now: datetime) -> bool:
    """``/validate/polltransaction``: has an unexpired challenge been answered?"""
    return session.scalar(select(Challenge.id).where(
        Challenge.transaction_id == transaction_id, Challenge.expires_at > now,
        Challenge.otp_valid.is_(True)).limit(1)) is not None


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(Challenge).where(Challenge.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ChallengePage:
    challenges: list[Challenge]
    count: int


def listed(session: Session, *, serial: str | None = None, token_ids: Select[Any] | None = None,
           transaction_id: str | None = None, sortby: str = "id", descending: bool = False,
           page: int = 1, pagesize: int = 15) -> ChallengePage:
    """Open challenges for ``GET /token/challenges/``: of the token ``serial``, or of the
    tokens whose ids ``token_ids`` selects (what the caller may see), one page of them."""
    if sortby not in SORT_COLUMNS:
        raise ParameterError(f"parameter sortby must be one of {', '.join(SORT_COLUMNS)}")
    query = select(Challenge)
    if serial:
        query = query.where(Challenge.serial == serial)
    if token_ids is not None:
        query = query.where(Challenge.serial.in_(select(Token.serial).where(Token.id.in_(token_ids))))
    if transaction_id:
        query = query.where(Challenge.transaction_id == transaction_id)
    column = getattr(Challenge, sortby)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(column.desc() if descending else column, Challenge.id)
                           .offset((page - 1) * pagesize).limit(pagesize))
    return ChallengePage(list(rows), count)
