"""AutoResync (system settings ``AutoResync``, ``AutoResyncTimeout``): a token whose counter
fell behind is synchronized during /validate/check by two consecutive OTP values.

A right PIN with a value outside the token's window but inside its sync window is
remembered (and still rejected); when the next value within ``AutoResyncTimeout`` seconds
is the one right after it, the engine accepts it and the counter moves past it. The
remembered counter is kept as a challenge row of the token under a transaction id no
client can send: like a challenge it expires and is shared by all nodes, and concurrent
requests may add rows without conflicting (privacyIDEA keeps it in tokeninfo ``otp1c``).

With the policy ``resync_via_multichallenge`` the first value opens a challenge instead
("To resync your token, please enter the next OTP value"): the user answers with the next
value alone, under the transaction id, and types the PIN once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from tesserad.core.store.models import Challenge
from tesserad.core.tokens.base import ChallengeSpec, TokenClass

# Not alphanumeric: validate_request refuses it as a transaction_id.
MARK = "autoresync:"
CHALLENGE_TEXT = "To resync your token, please enter the next OTP value"

_REMEMBERED = select(Challenge.data).where(Challenge.transaction_id == MARK, Challenge.serial == bindparam("serial"),
                                           Challenge.expires_at > bindparam("now"))
_FORGET = delete(Challenge).where(Challenge.transaction_id == MARK, Challenge.serial == bindparam("serial"))
_REMEMBER = insert(Challenge).values(transaction_id=MARK, serial=bindparam("serial"), data=bindparam("data"),
                                     created_at=bindparam("now"), expires_at=bindparam("expires"))


def auto_resync(session: Session, token: TokenClass, otp: str, now: datetime, timeout: int) -> int:
    """The counter to accept for ``otp`` when it follows the remembered value, else -1 (and
    ``otp``'s counter is remembered when it lies in the sync window). The caller consumes
    the returned counter with its conditional UPDATE, so the pair is accepted once."""
    found = token.sync_counter(otp)
    if found < 0:
        return -1
    params = {"serial": token.serial, "now": now}
    remembered = session.scalars(_REMEMBERED, params).all()
    connection = session.connection()
    connection.execute(_FORGET, params)
    if str(found - 1) in remembered:
        return found
    connection.execute(_REMEMBER, {**params, "data": str(found), "expires": now + timedelta(seconds=timeout)})
    return -1


def challenge(found: int, timeout: int) -> ChallengeSpec:
    """The resync challenge for a value whose counter is ``found``; it lives as long as
    AutoResync remembers a value."""
    return ChallengeSpec(message=CHALLENGE_TEXT, challenge=MARK, data=str(found), validity=timeout)


def is_resync(row: Challenge) -> bool:
    return row.challenge == MARK


def answer(token: TokenClass, otp: str, row: Challenge) -> int:
    """The counter to accept for ``otp`` when it follows the value that opened the resync
    challenge ``row``, else -1."""
    found = token.sync_counter(otp)
    return found if found >= 0 and str(found - 1) == row.data else -1
