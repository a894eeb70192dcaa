"""What the email and sms tokens share: HOTP values at the token's counter, sent in a
message when the PIN starts a challenge. The subclass names its address parameter (``email``
/ ``phone``), its dynamic flag, the setting of its definition (``email.identifier`` /
``sms.identifier``) and its validity settings; it builds the ``Notice``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenClass, decode_key, param_bool, param_int
from tesserad.core.tokens.hotp import HotpToken


class MessagedToken(HotpToken):
    challenge_always = True
    challenge_by_policy = False
    verifiable_at_enrollment = False
    # The address parameter and tokeninfo (email, phone) and the flag that reads it from the user store.
    address: ClassVar[str]
    dynamic: ClassVar[str]
    # The tokeninfo and system setting naming the SMTP server or SMS gateway.
    identifier_key: ClassVar[str]
    # System settings of the challenge validity, the first set wins, else the default.
    validity_keys: ClassVar[tuple[str, ...]]
    default_validity: ClassVar[int]

    def check_address(self, address: str) -> str:
        raise NotImplementedError

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = TokenClass.enroll(self, params)
        if param_bool(params, self.dynamic):
            self.set_info(self.dynamic, "1")
            self.del_info(self.address)
        else:
            address = str(params.get(self.address) or "").strip()
            if not address:
                raise ParameterError(f"missing parameter: {self.address} (or {self.dynamic}=1)")
            self.set_info(self.address, self.check_address(address))
            self.del_info(self.dynamic)
        identifier = str(params.get(self.identifier_key) or "").strip()
        if identifier:
            self.set_info(self.identifier_key, identifier)
        self.set_info("hashlib", "sha1")
        self.row.otplen = param_int(params, "otplen", self.env.settings.DefaultOtpLen, allowed=(6, 8))
        key = decode_key(params) if params.get("otpkey") else os.urandom(oath.DEFAULT_KEYSIZE["sha1"])
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        return detail

    def identifier(self) -> str:
        return self.info(self.identifier_key) or self.env.extra.get(self.identifier_key, "")

    def fixed_address(self) -> str | None:
        """The token's own address, or None to read it from the owner at each challenge."""
        return None if self.info(self.dynamic) == "1" else self.info(self.address)

    def tags(self) -> dict[str, str]:
        """The tags of the token itself: the OTP at its counter, serial and type."""
        return {"otp": oath.hotp(self.secret(), self.row.count, self.row.otplen, self.hashlib_name),
                "serial": self.serial, "tokentype": self.type}

    def validity(self) -> int:
        for key in self.validity_keys:
            raw = self.env.extra.get(key, "").strip()
            if raw.isdigit() and int(raw) > 0:
                return int(raw)
        return self.default_validity

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ParameterError(f"{self.type} tokens are not enrolled in two steps")

