"""mOTP (motp.sourceforge.net): md5 over the 10-second epoch step, the init secret and the
user's mOTP PIN, cut to ``otplen`` hex characters. Phone apps: Potato, Token2, DroidOTP.

``count`` holds the step after the last accepted one, so a value is accepted at most once
and never one older than the last (the base class's conditional UPDATE).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tesserad.core.tokens.base import ParameterError, TokenClass, TokenError, param_bool, param_int
from tesserad.core.tokens.otpauth import qr_data_uri
from tesserad.core.tokens.registry import register

STEP_SECONDS = 10
DEFAULT_KEYSIZE = 16
DEFAULT_OTPLEN = 6


def motp_value(step: int, secret: str, pin: str, digits: int = DEFAULT_OTPLEN) -> str:
    """The mOTP value for an epoch step (``int(time) // 10``)."""
    text = f"{step:d}{secret}{pin}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:digits]


@register
class MotpToken(TokenClass):
    """The init secret is kept as the text the app shows (it enters the hash as text);
    the mOTP PIN is required and stored encrypted in ``user_pin_enc``."""

    type = "motp"
    prefix = "PIMO"
    title = "mOTP Token"

    def _secret_text(self) -> str:
        return self.secret().decode()

    def _motp_pin(self) -> str:
        if self.row.user_pin_enc is None:
            raise TokenError(f"token {self.serial} has no mOTP PIN")
        return self.env.security.decrypt(self.row.user_pin_enc, context=self._context("userpin")).decode()

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        pin = params.get("motppin")
        if pin in (None, ""):
            raise ParameterError("missing parameter: motppin")
        generate = param_bool(params, "genkey")
        if generate and params.get("otpkey"):
            raise ParameterError("give either genkey or otpkey, not both")
        if generate:
            secret = secrets.token_hex(param_int(params, "keysize", DEFAULT_KEYSIZE))
        elif params.get("otpkey"):
            secret = str(params["otpkey"]).strip()
        else:
            raise ParameterError("missing parameter: otpkey (or genkey=1)")
        self.set_secret(secret.encode())
        self.row.user_pin_enc = self.env.security.encrypt(str(pin).encode(), context=self._context("userpin"))
        self.row.otplen = param_int(params, "otplen", DEFAULT_OTPLEN)
        if not 1 <= self.row.otplen <= 32:
            raise ParameterError("otplen must be 1..32")
        self.row.count = 0
        if generate:
            label = str(params.get("tokenlabel") or self.serial)[:20]
            uri = f"motp://tesserad:{quote(label)}?secret={secret}"
            detail["motpurl"] = {"description": "URL for MOTP token", "value": uri, "img": qr_data_uri(uri)}
            detail["otpkey"] = {"description": "OTP seed", "value": f"seed://{secret}"}
        return detail

    def _window(self) -> tuple[int, int]:
        """Steps now ± 2·count_window (as the reference implementation counts)."""
        now = int(self.env.clock.now()) // STEP_SECONDS
        width = 2 * self.row.count_window
        return now - width, now + width

    def _find(self, otp: str, first: int, last: int) -> int:
        """The first step in [first, last] with value ``otp``, or -1; all compared in constant time."""
        secret, pin = self._secret_text(), self._motp_pin()
        wanted = otp.lower().encode()
        found = -1
        for step in range(first, last + 1):
            value = motp_value(step, secret, pin, self.row.otplen).encode()
            if hmac.compare_digest(value, wanted) and found < 0:
                found = step
        return found

    def check_otp(self, otp: str) -> int:
        first, last = self._window()
        return self._find(otp, max(first, self.row.count), last)

    def previously_used(self, otp: str) -> bool:
        first, _ = self._window()
        return self.row.count > first and self._find(otp, first, self.row.count - 1) >= 0
