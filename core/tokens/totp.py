"""TOTP, the time-based OATH token (RFC 6238).

``count`` holds the time step after the last accepted one, so a value is accepted at most
once and never one older than the last; ``timeShift`` follows the token's clock drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.tokens import oath
from tesserad.core.tokens.base import Success, param_int
from tesserad.core.tokens.hotp import HotpToken
from tesserad.core.tokens.otpauth import otpauth_uri
from tesserad.core.tokens.registry import register


@register
class TotpToken(HotpToken):
    type = "totp"
    prefix = "TOTP"
    title = "HMAC Time Token"
    uri_kind = "totp"

    @property
    def step(self) -> int:
        return int(self.info("timeStep") or 30)

    @property
    def window(self) -> int:
        return int(self.info("timeWindow") or 180)

    @property
    def shift(self) -> int:
        return int(self.info("timeShift") or 0)

    def enroll_type_specific(self, params: Mapping[str, Any]) -> None:
        extra = self.env.extra
        self.set_info("timeStep", param_int(params, "timeStep", int(extra.get("totp.timeStep", 30)),
                                            allowed=(30, 60)))
        self.set_info("timeWindow", param_int(params, "timeWindow", int(extra.get("totp.timeWindow", 180))))
        self.set_info("timeShift", param_int(params, "timeShift", 0))

    def enrollment_uri(self, key: bytes, label: str, issuer: str, extra: Mapping[str, str | int]) -> str:
        return otpauth_uri(self.uri_kind, key, label, issuer, digits=self.row.otplen,
                           hashlib_name=self.hashlib_name, period=self.step, extra=extra)

    def _steps(self, window_steps: int) -> tuple[int, int]:
        """The first and last acceptable step around now, never before ``count``."""
        center = oath.time_step(self.env.clock.now(), self.step, self.shift)
        return max(center - window_steps, self.row.count), center + window_steps

    def check_otp(self, otp: str) -> int:
        first, last = self._steps(self.window // self.step)
        return oath.find_counter(self.secret(), otp, first, last - first + 1, self.row.otplen,
                                 self.hashlib_name)

    def previously_used(self, otp: str) -> bool:
        center = oath.time_step(self.env.clock.now(), self.step, self.shift)
        start = center - self.window // self.step
        return oath.find_counter(self.secret(), otp, start, self.row.count - start, self.row.otplen,
                                 self.hashlib_name) >= 0

    def consume(self, session: Session, matched: int, success: Success | None = None) -> bool:
        if not super().consume(session, matched, success):
            return False
        drift = (matched - oath.time_step(self.env.clock.now(), self.step)) * self.step
        if drift != self.shift:
            self.set_info("timeShift", drift)
        return True

    def sync_counter(self, otp: str) -> int:
        first, last = self._steps(self.row.sync_window)
        return oath.find_counter(self.secret(), otp, first, last - first + 1, self.row.otplen, self.hashlib_name)
