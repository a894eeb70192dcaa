"""Simple Pass: no OTP at all, the PIN (or the user-store password) is the credential."""

from __future__ import annotations

from tesserad.core.tokens.base import TokenClass
from tesserad.core.tokens.registry import register


@register
class SpassToken(TokenClass):
    type = "spass"
    prefix = "PISP"
    title = "Simple Pass Token"
    has_otp = False
    generates_otp = False

    def check_otp(self, otp: str) -> int:
        return 0 if otp == "" else -1

    def next_count(self, matched: int) -> None:
        return None  # nothing to use up: a PIN may be used again
