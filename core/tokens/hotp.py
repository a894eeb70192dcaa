"""HOTP, the event-based OATH token (RFC 4226)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenClass, decode_key, param_bool, param_int
from tesserad.core.tokens.otpauth import googleurl_detail, otpauth_uri
from tesserad.core.tokens.registry import register

DEFAULT_ISSUER = "tesserad"


@register
class HotpToken(TokenClass):
    type = "hotp"
    verifiable_at_enrollment = True
    prefix = "OATH"
    title = "HOTP Event Token"
    challenge_by_policy = True
    uri_kind = "hotp"

    @property
    def hashlib_name(self) -> str:
        return self.info("hashlib") or "sha1"

    def default_hashlib(self) -> str:
        return self.env.extra.get(f"{self.type}.hashlib", "sha1")

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        hashlib_name = str(params.get("hashlib") or self.default_hashlib()).lower()
        if hashlib_name not in oath.HASHLIBS:
            raise ParameterError(f"hashlib must be one of {', '.join(oath.HASHLIBS)}")
        self.set_info("hashlib", hashlib_name)
        self.row.otplen = param_int(params, "otplen", self.env.settings.DefaultOtpLen, allowed=(6, 8))
        generate = param_bool(params, "genkey")
        if generate and params.get("otpkey"):
            raise ParameterError("give either genkey or otpkey, not both")
        if generate:
            key = os.urandom(param_int(params, "keysize", oath.DEFAULT_KEYSIZE[hashlib_name]))
        elif params.get("otpkey"):
            key = decode_key(params)
        else:
            raise ParameterError("missing parameter: otpkey (or genkey=1)")
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        self.enroll_type_specific(params)
        label = str(params.get("tokenlabel") or self.serial)
        issuer = str(params.get("tokenissuer") or DEFAULT_ISSUER)
        detail["googleurl"] = googleurl_detail(self.enrollment_uri(key, label, issuer), image=self.env.qr_images)
        detail["oathurl"] = {"description": "URL for OATH token",
                             "value": f"oathtoken:///addToken?name={quote(label)}&lockdown=true&key={key.hex()}"}
        if generate:
            detail["otpkey"] = {"description": "OTP seed", "value": f"seed://{key.hex()}"}
        return detail

    def enroll_type_specific(self, params: Mapping[str, Any]) -> None:
        """Hook for subclasses (TOTP's time step and window)."""

    def enrollment_uri(self, key: bytes, label: str, issuer: str) -> str:
        return otpauth_uri(self.uri_kind, key, label, issuer, digits=self.row.otplen,
                           hashlib_name=self.hashlib_name, counter=self.row.count)

    def check_otp(self, otp: str) -> int:
        return oath.find_counter(self.secret(), otp, self.row.count, self.row.count_window,
                                 self.row.otplen, self.hashlib_name)

    def previously_used(self, otp: str) -> bool:
        start = max(self.row.count - self.row.count_window, 0)
        return oath.find_counter(self.secret(), otp, start, self.row.count - start,
                                 self.row.otplen, self.hashlib_name) >= 0

    def sync_counter(self, otp: str) -> int:
        return oath.find_counter(self.secret(), otp, self.row.count, self.row.sync_window,
                                 self.row.otplen, self.hashlib_name)

    def resync(self, otp1: str, otp2: str) -> int | None:
        first = self.sync_counter(otp1)
        if first < 0:
            return None
        second = oath.hotp(self.secret(), first + 1, self.row.otplen, self.hashlib_name)
        return first + 1 if hmac.compare_digest(second.encode(), otp2.encode()) else None
