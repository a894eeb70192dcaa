"""enroll_via_multichallenge: a user without a token of the policy's type enrolls one
inside the login (HOTP and TOTP; push, email and SMS once those types exist).

After a granted login (passthru with the user-store password, passOnNoToken, or a token of
another type) the answer is a challenge carrying the enrollment: ``detail.image`` is the QR
code of the otpauth URL, as privacyIDEA 3.8 sends it, and edges that show only text (RADIUS,
PAM) show the URL itself. The first OTP value of the new token, with the transaction id,
finishes both the enrollment and the login.

The token is enrolled as the user's own ``/token/init`` would enroll it (Enrollment.prepare
and TokenService.init): forced parameters (``hotp_hashlib``, ``totp_timestep``, ...),
``tokenlabel`` / ``tokenissuer``, and the limits (``max_token_per_user``, ...; privacyIDEA 3.8
does not check them here): a limit that forbids another token leaves the login accepted
without an enrollment. No PIN is set, as in privacyIDEA (a random PIN of ``otp_pin_random``
would be one nobody sees).

Until its first value the token waits in rollout state ``clientwait`` (it cannot log in),
marked by tokeninfo. A login that left its enrollment unanswered does not lock the user out:
the waiting token does not count as a token (passthru applies again), and the next
enrollment replaces it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tesserad.core.enrollment import Enrollment
from tesserad.core.rights import Rights, Target
from tesserad.core.store.models import Challenge, Token
from tesserad.core.token_access import Services
from tesserad.core.tokens.base import ChallengeSpec, TokenClass
from tesserad.core.tokens.record import settle
from tesserad.core.tokens.registry import token_class
from tesserad.core.users.base import User

# The token types that can be enrolled inside a login.
TYPES = ("hotp", "totp")
# The challenge column of an enrollment challenge, and its text (privacyIDEA's).
MARK = "enrollment"
MESSAGE = "Please scan the QR code!"
# Tokeninfo of a token that waits for its first value.
WAITING = "enrollment_at_login"
CLIENTWAIT, ENROLLED = "clientwait", "enrolled"


def is_waiting(token: TokenClass) -> bool:
    return token.row.rollout_state == CLIENTWAIT and token.info(WAITING) is not None


def is_enrollment(row: Challenge) -> bool:
    return row.challenge == MARK


def enroll(session: Session, services: Services, rights: Rights, kind: str,
           user: User) -> tuple[TokenClass, dict[str, Any]]:
    """A new token of ``kind`` for ``user``, waiting for its first value, and its /token/init
    detail. Raises PolicyDenied when a limit forbids it."""
    serial = services.tokens.new_serial(session, token_class(kind).prefix)
    prepared = Enrollment(session, services, rights).prepare(
        {"type": kind, "genkey": "1", "serial": serial}, kind, user, [Target.of_user(user)])
    prepared.pop("pin", None)
    token, detail = services.tokens.init(session, prepared, user)
    token.row.rollout_state = CLIENTWAIT
    token.set_info(WAITING, "1")
    return token, detail


def challenge() -> ChallengeSpec:
    return ChallengeSpec(message=MESSAGE, challenge=MARK)


def complete(session: Session, token: TokenClass) -> None:
    """The first value came: the token is enrolled."""
    session.execute(update(Token).where(Token.id == token.row.id).values(rollout_state=ENROLLED)
                    .execution_options(synchronize_session=False))
    settle(token.row, "rollout_state", ENROLLED)
    token.del_info(WAITING)
