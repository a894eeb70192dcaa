"""SMS token: an HOTP token whose next value is sent by SMS when its PIN (or a
``triggerchallenge``) starts a challenge, queued in the outbox with the challenge.

The phone number is the tokeninfo ``phone`` or, with ``dynamic_phone``, the owner's
``mobile`` from the user store at each challenge. The gateway is tokeninfo
``sms.identifier`` (enrollment parameter) or the system setting ``sms.identifier``. The
auth policies ``smstext`` (privacyIDEA's tags, see ``core.outbox.templates``) and
``sms_challenge_text`` shape the SMS and the challenge; ``sms.validtime`` (else
``sms.providerTimeout``, else 300 s) is how long the sent value stays answerable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tesserad.core.sms.gateways import checked_phone
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    Notice,
    ParameterError,
    TokenClass,
    decode_key,
    param_bool,
    param_int,
)
from tesserad.core.tokens.hotp import HotpToken
from tesserad.core.tokens.registry import register

DEFAULT_TEXT = "<otp>"
DEFAULT_CHALLENGE_TEXT = "Enter the OTP from the SMS:"
FAILURE = "The PIN was correct, but the SMS could not be sent!"
DEFAULT_VALIDITY = 300
IDENTIFIER = "sms.identifier"


@register
class SmsToken(HotpToken):
    type = "sms"
    prefix = "PISM"
    title = "SMS Token"
    challenge_always = True
    challenge_by_policy = False
    verifiable_at_enrollment = False

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = TokenClass.enroll(self, params)
        if param_bool(params, "dynamic_phone"):
            self.set_info("dynamic_phone", "1")
            self.del_info("phone")
        else:
            phone = str(params.get("phone") or "").strip()
            if not phone:
                raise ParameterError("missing parameter: phone (or dynamic_phone=1)")
            self.set_info("phone", checked_phone(phone))
            self.del_info("dynamic_phone")
        identifier = str(params.get(IDENTIFIER) or "").strip()
        if identifier:
            self.set_info(IDENTIFIER, identifier[:120])
        self.set_info("hashlib", "sha1")
        self.row.otplen = param_int(params, "otplen", self.env.settings.DefaultOtpLen, allowed=(6, 8))
        key = decode_key(params) if params.get("otpkey") else os.urandom(oath.DEFAULT_KEYSIZE["sha1"])
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        return detail

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        texts = options.texts
        message = texts.get("sms_challenge_text") or DEFAULT_CHALLENGE_TEXT
        validity = self._validity()
        identifier = self.info(IDENTIFIER) or self.env.extra.get(IDENTIFIER, "")
        if not identifier:
            return ChallengeSpec(message=FAILURE, validity=validity)
        otp = oath.hotp(self.secret(), self.row.count, self.row.otplen, self.hashlib_name)
        notice = Notice(f"sms:{identifier}", {"text": texts.get("smstext") or DEFAULT_TEXT},
                        {"otp": otp, "serial": self.serial, "tokentype": self.type},
                        recipient=None if self.info("dynamic_phone") == "1" else self.info("phone"),
                        recipient_attribute="mobile", failure=FAILURE)
        return ChallengeSpec(message=message, validity=validity, notice=notice)

    def _validity(self) -> int:
        for key in ("sms.validtime", "sms.providerTimeout"):
            raw = self.env.extra.get(key, "").strip()
            if raw.isdigit() and int(raw) > 0:
                return int(raw)
        return DEFAULT_VALIDITY

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ParameterError("sms tokens are not enrolled in two steps")
