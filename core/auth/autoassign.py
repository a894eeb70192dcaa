"""``autoassignment`` (enrollment scope): a user without tokens takes a token from the pool of
unowned tokens of the realm just by logging in with it.

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
    for token in _pool(session, tokens, user.realm):
        if not token.generates_otp or token.validity_problem(success.now) is not None:
            continue
        pin, otp = token.split_pin(password)
        matched = token.check_otp(otp) if otp else -1
        if matched < 0 or (mode == USERSTORE and not userstore_ok(pin)):
            continue
        if token.consume(session, matched, success):
            tokens.assign(session, token.serial, user, pin=pin)
            return token
    return None
