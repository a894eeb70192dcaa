"""SMS token: an HOTP token whose next value is sent by SMS when its PIN (or a
``triggerchallenge``) starts a challenge.

The phone number is the tokeninfo ``phone`` or, with ``dynamic_phone``, the owner's
``mobile`` from the user store at each challenge. The gateway is tokeninfo
``sms.identifier`` (enrollment parameter) or the system setting ``sms.identifier``. The
text is the auth policy ``smstext`` with privacyIDEA's tags; the challenge message is
``sms_challenge_text``. The SMS goes into the outbox in the challenge's transaction, so
it is sent once the challenge is stored, and never when it is not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from tesserad.core.clock import utc_datetime
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    NotSent,
    OutgoingMessage,
    ParameterError,
    TokenClass,
    decode_key,
    param_bool,
    param_int,
)
from tesserad.core.tokens.registry import register

DEFAULT_CHALLENGE_TEXT = "Enter the OTP from the SMS:"
NOT_SENT = "The PIN was correct, but the SMS could not be sent"
DEFAULT_VALIDITY = 300
PHONE = re.compile(r"\+?[0-9][0-9 ()/.-]{2,30}")


def _validity(extra: Mapping[str, str]) -> int:
    for key in ("sms.validtime", "sms.providerTimeout"):
        raw = extra.get(key, "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
    return DEFAULT_VALIDITY


def render(template: str, tags: Mapping[str, str]) -> str:
    """privacyIDEA's tags: ``{name}`` for each tag, and ``<otp>``/``<serial>`` of old."""
    text = template.replace("<otp>", "{otp}").replace("<serial>", "{serial}")
    for name, value in tags.items():
        text = text.replace("{" + name + "}", value)
    return text


@register
class SmsToken(TokenClass):
    type = "sms"
    prefix = "PISM"
    title = "SMS Token"
    challenge_always = True
    needs_owner = True

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        dynamic = param_bool(params, "dynamic_phone")
        phone = str(params.get("phone") or "").strip()
        if dynamic:
            self.del_info("phone")
        elif not PHONE.fullmatch(phone):
            raise ParameterError("missing parameter: phone (digits, a leading + and ( ) / . - or blanks)"
                                 if not phone else "phone may hold only digits, a leading + and ( ) / . - or blanks")
        else:
            self.set_info("phone", phone)
        self.set_info("dynamic_phone", "1" if dynamic else "0")
        identifier = str(params.get("sms.identifier") or "").strip()
        if identifier:
            self.set_info("sms.identifier", identifier[:120])
        self.row.otplen = param_int(params, "otplen", self.env.settings.DefaultOtpLen, allowed=(6, 8))
        key = decode_key(params) if params.get("otpkey") else os.urandom(oath.DEFAULT_KEYSIZE["sha1"])
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        return detail

    def _phone(self, owner: Mapping[str, Any]) -> str:
        if self.info("dynamic_phone") == "1":
            mobile = owner.get("mobile") or ""
            phone = str(mobile[-1] if isinstance(mobile, list) and mobile else mobile).strip()
        else:
            phone = self.info("phone") or ""
        if not PHONE.fullmatch(phone):
            raise NotSent(f"{NOT_SENT}: the token {self.serial} has no usable phone number")
        return phone

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        gateway = self.info("sms.identifier") or self.env.extra.get("sms.identifier", "")
        if not gateway:
            raise NotSent(f"{NOT_SENT}: no SMS gateway is set for the token {self.serial} (sms.identifier)")
        otp = oath.hotp(self.secret(), self.row.count, self.row.otplen, "sha1")
        owner = options.owner
        now = utc_datetime(self.env.clock)
        tags = {"otp": otp, "serial": self.serial, "user": str(owner.get("givenname", "")),
                "givenname": str(owner.get("givenname", "")), "surname": str(owner.get("surname", "")),
                "username": str(owner.get("login", "")), "userrealm": str(owner.get("realm", "")),
                "tokentype": self.type, "recipient_givenname": str(owner.get("givenname", "")),
                "recipient_surname": str(owner.get("surname", "")), "time": now.strftime("%H:%M:%S"),
                "date": now.strftime("%Y-%m-%d")}
        message = OutgoingMessage(f"sms:{gateway}", self._phone(owner), {"text": render(options.sms_text, tags)})
        return ChallengeSpec(message=options.sms_challenge_text or options.text or DEFAULT_CHALLENGE_TEXT,
                             validity=_validity(self.env.extra), outgoing=message)

    def check_otp(self, otp: str) -> int:
        return oath.find_counter(self.secret(), otp, self.row.count, self.row.count_window, self.row.otplen, "sha1")

    def previously_used(self, otp: str) -> bool:
        start = max(self.row.count - self.row.count_window, 0)
        return oath.find_counter(self.secret(), otp, start, self.row.count - start, self.row.otplen, "sha1") >= 0
