"""``autoassignment`` (enrollment scope) and ``passthru_assign`` (authentication scope): a user
without tokens takes a token from the pool of unowned tokens of the realm just by logging in
with it.

``passthru_assign`` runs after the user's RADIUS server accepted the password: the policy
value says where the PIN and the OTP are in it (``pin:6``, ``6:pin``) and how many values of
each token to try (``pin:6:10000``, default 100); the token found gets the PIN part.

The password is the PIN part and an OTP value of the token. ``any_pin``: whatever PIN part
is given becomes the token's PIN (the token alone is the factor of that first login);
``userstore``: the PIN part must be the user's user-store password, which then becomes the
token's PIN, as privacyIDEA does. The OTP part is checked first and the user store only asked
for a token whose value matched, so a wrong value costs no bind. The value is used up with the
token's atomic consume, so of two concurrent logins with the same value only one takes the
token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from tesserad.core.tokens.base import Success, TokenClass
from tesserad.core.tokens.service import MAX_PAGE_SIZE, TokenFilter, TokenService
from tesserad.core.users.base import User

ANY_PIN, USERSTORE = "any_pin", "userstore"
ASSIGNED_MESSAGE = "Token assigned to user via Autoassignment"
# passthru_assign: how many values of each token are tried without a third part.
PASSTHRU_ASSIGN_COUNT = 100


def _pool(session: Session, tokens: TokenService, realm: str) -> Iterator[TokenClass]:
    """The unowned tokens of ``realm``, page by page."""
    page: int | None = 1
    while page is not None:
        found = tokens.list(session, TokenFilter(realm=realm, assigned=False), page=page, pagesize=MAX_PAGE_SIZE)
        yield from found.tokens
        page = found.next


def autoassign(session: Session, tokens: TokenService, mode: str, user: User, password: str, success: Success,
               userstore_ok: Callable[[str], bool]) -> TokenClass | None:
    """The token of the pool that ``password`` logs in with, now the user's, or None.
    ``userstore_ok(pin)``: whether ``pin`` is the user's user-store password."""
    if mode not in (ANY_PIN, USERSTORE):
        return None
    for token in _usable(session, tokens, user, success):
        pin, otp = token.split_pin(password)
        matched = token.check_otp(otp) if otp else -1
        if matched < 0 or (mode == USERSTORE and not userstore_ok(pin)):
            continue
        if _claim(session, tokens, token, matched, user, pin, success):
            return token
    return None


def split_by_rule(rule: str, password: str) -> tuple[str, str, int] | None:
    """(PIN, OTP, values to try) as the passthru_assign ``rule`` cuts ``password``; None when
    the password is too short to hold the OTP."""
    parts = rule.split(":")
    count = int(parts[2]) if len(parts) > 2 else PASSTHRU_ASSIGN_COUNT
    if parts[0] == "pin":
        length = int(parts[1])
        pin, otp = password[:len(password) - length], password[len(password) - length:]
    else:
        length = int(parts[0])
        otp, pin = password[:length], password[length:]
    return (pin, otp, count) if length and len(password) >= length else None


def passthru_assign(session: Session, tokens: TokenService, rule: str, user: User, password: str,
                    success: Success) -> TokenClass | None:
    """The unowned token of the user's realm whose OTP is in ``password`` (cut by ``rule``),
    now the user's with the PIN part as its PIN, or None."""
    split = split_by_rule(rule, password)
    if split is None:
        return None
    pin, otp, count = split
    for token in _usable(session, tokens, user, success):
        if token.row.otplen != len(otp):
            continue
        matched = token.check_otp_within(otp, count)
        if matched >= 0 and _claim(session, tokens, token, matched, user, pin, success):
            return token
    return None


def _usable(session: Session, tokens: TokenService, user: User, success: Success) -> Iterator[TokenClass]:
    """The pool tokens of the user's realm that can log in now."""
    for token in _pool(session, tokens, user.realm):
        if token.generates_otp and token.validity_problem(success.now) is None:
            yield token


def _claim(session: Session, tokens: TokenService, token: TokenClass, matched: int, user: User, pin: str,
           success: Success) -> bool:
    """Use up ``matched`` (atomically: of two logins with one value only one wins) and assign."""
    if not token.consume(session, matched, success):
        return False
    tokens.assign(session, token.serial, user, pin=pin)
    return True
