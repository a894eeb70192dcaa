"""Fail and success counters, moved with single UPDATE statements.

Each statement reads and writes the row at once in the database, so concurrent requests
in several processes add up exactly; nothing is read into Python and written back. The
statements are built once, at import: on the hot path building costs more than running.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, case, update
from sqlalchemy.orm import Session

from tesserad.core.store.models import Token
from tesserad.core.store.prepared import Prepared
from tesserad.core.tokens.base import SUCCESS

_OPTIONS = {"synchronize_session": False}
_BY_IDS = Token.id.in_(bindparam("ids", expanding=True))

_FAILURE = {
    Token.failcount: case((Token.failcount < Token.maxfail, Token.failcount + 1), else_=Token.failcount),
    # The moment the counter reaches maxfail starts the clear timeout.
    Token.failcount_exceeded_at: case(
        ((Token.failcount + 1 >= Token.maxfail) & Token.failcount_exceeded_at.is_(None), bindparam("now")),
        else_=Token.failcount_exceeded_at),
}
FAIL = update(Token).where(_BY_IDS).values(_FAILURE).execution_options(**_OPTIONS)
FAIL_COUNTED = (update(Token).where(_BY_IDS).values({**_FAILURE, Token.count_auth: Token.count_auth + 1})
                .execution_options(**_OPTIONS))
ATTEMPT = update(Token).where(_BY_IDS).values(count_auth=Token.count_auth + 1).execution_options(**_OPTIONS)
RESET = (update(Token).where(_BY_IDS).values(failcount=0, failcount_exceeded_at=None)
         .execution_options(**_OPTIONS))


# The usual case of a wrong OTP: one token, a statement without an IN list (see Prepared).
_FAIL_ONE = {counted: Prepared(update(Token).where(Token.id == bindparam("token_id"))
                               .values({**_FAILURE, Token.count_auth: Token.count_auth + 1} if counted else _FAILURE))
             for counted in (False, True)}


def record_failure(session: Session, token_ids: Iterable[int], now: datetime, *, count_auth: bool) -> None:
    """One failed attempt on each token: the fail counter rises up to maxfail."""
    ids = list(token_ids)
    if len(ids) == 1:
        _FAIL_ONE[count_auth].execute(session, {"token_id": ids[0], "now": now})
    elif ids:
        session.connection().execute(FAIL_COUNTED if count_auth else FAIL, {"ids": ids, "now": now})


def record_attempt(session: Session, token_ids: Iterable[int]) -> None:
    """An attempt that neither failed nor succeeded (a challenge was issued)."""
    ids = list(token_ids)
    if ids:
        session.connection().execute(ATTEMPT, {"ids": ids})


def record_success(session: Session, token_id: int, now: datetime, *, count_auth: bool) -> None:
    """A success without an OTP to use up in the same statement (an answered challenge;
    a PIN+OTP login records it with ``TokenClass.consume``)."""
    SUCCESS[count_auth].execute(session, {"token_id": token_id, "now": now})


def reset_failcount(session: Session, token_ids: Iterable[int]) -> None:
    ids = list(token_ids)
    if ids:
        session.connection().execute(RESET, {"ids": ids})
