"""Search by OTP (``GET /token/getserial/<otp>``): which token generates a given OTP value."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tesserad.core.tokens.base import TokenClass
from tesserad.core.tokens.service import MAX_PAGE_SIZE, TokenFilter, TokenService


def token_of_otp(tokens: TokenService, session: Session, otp: str,
                 wanted: TokenFilter) -> tuple[TokenClass | None, int]:
    """The first token of ``wanted`` (by serial) that generates ``otp``, with the number of
    tokens ``wanted`` selects; (None, 0) when none does. Each token is checked within its own
    window and nothing is consumed (no counter moves, no fail counter changes)."""
    page: int | None = 1
    while page is not None:
        found = tokens.list(session, wanted, page=page, pagesize=MAX_PAGE_SIZE)
        for token in found.tokens:
            if token.generates_otp and token.check_otp(otp) >= 0:
                return token, found.count
        page = found.next
    return None, 0
