"""Day password (privacyIDEA 3.9): a TOTP value with a long time step (default one day)
that may be used again and again within its step.

``count`` holds the last step a value was accepted for (not the one after it, as for TOTP):
a value of the current step stays usable, a step older than the last accepted one never is.
Only the current step is accepted; there is no window and no drift tracking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.registry import register
from tesserad.core.tokens.totp import TotpToken

DEFAULT_TIME_STEP = "1d"
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)


def parse_time_step(value: str) -> int:
    """Seconds in a step written as ``86400``, ``90s``, ``30m``, ``24h`` or ``1d``."""
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) <= 0:
        raise ParameterError(f"timeStep must be a positive duration like 1d, 24h, 30m or 3600, not {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@register
class DayPasswordToken(TotpToken):
    type = "daypassword"
    verifiable_at_enrollment = False
    prefix = "DayPasswordToken"
    title = "Time based Password"

    @property
    def step(self) -> int:
        return parse_time_step(self.info("timeStep") or self.env.extra.get("daypassword.timeStep")
                               or DEFAULT_TIME_STEP)

    @property
    def shift(self) -> int:
        return 0

    def enroll_type_specific(self, params: Mapping[str, Any]) -> None:
        step = str(params.get("timeStep") or self.env.extra.get("daypassword.timeStep") or DEFAULT_TIME_STEP)
        parse_time_step(step)  # refuse a bad value at enrollment, not at the first login
        self.set_info("timeStep", step.strip())

    def check_otp(self, otp: str) -> int:
        current = oath.time_step(self.env.clock.now(), self.step)
        if current < self.row.count:
            return -1  # the clock went back behind an accepted step
        return oath.find_counter(self.secret(), otp, current, 1, self.row.otplen, self.hashlib_name)

    def previously_used(self, otp: str) -> bool:
        return False

    def next_count(self, matched: int) -> int:
        return matched  # the same step may be used again, an older one never

    def sync_counter(self, otp: str) -> int:
        return -1  # one value per step and no drift: nothing to synchronize
