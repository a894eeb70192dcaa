"""Paper token: an HOTP token whose next values are printed once, at enrollment, and then
used one after the other like any HOTP token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, param_int
from tesserad.core.tokens.hotp import HotpToken
from tesserad.core.tokens.registry import register

DEFAULT_COUNT = 100
# A sheet with more values than this is a mistake (or a request to burn CPU).
MAX_COUNT = 10000


def otp_count(params: Mapping[str, Any], key: str, extra: Mapping[str, str]) -> int:
    """How many values to print: the enrollment parameter (set by the ``<type>_count``
    enrollment policy), then the system setting, then 100."""
    count = param_int(params, key, int(extra.get(key, DEFAULT_COUNT)))
    if not 1 <= count <= MAX_COUNT:
        raise ParameterError(f"{key} must be 1..{MAX_COUNT}")
    return count


@register
class PaperToken(HotpToken):
    """The list in ``detail.otps`` ({counter: value}) is the only copy the user gets; the
    seed itself is not returned (no QR code, no ``otpkey``): the paper is the token."""

    type = "paper"
    verifiable_at_enrollment = False
    prefix = "PPR"
    title = "Paper Token"

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        count = otp_count(params, "papertoken_count", self.env.extra)
        if not params.get("otpkey"):
            params = {**params, "genkey": "1"}
        detail = super().enroll(params)
        for name in ("googleurl", "oathurl", "otpkey"):
            detail.pop(name, None)
        key = self.secret()
        start = self.row.count
        detail["otps"] = {counter: oath.hotp(key, counter, self.row.otplen, self.hashlib_name)
                          for counter in range(start, start + count)}
        return detail
