"""HOTP, the event-based OATH token (RFC 4226).

Two-step enrolment (``2stepinit=1`` with ``genkey=1``): the server keeps only its key part and
waits (rollout state ``clientwait``, inactive) for the client's part; the second
``/token/init`` with the client part as ``otpkey`` (``otpkeyformat=base32check``) derives the
key as the privacyIDEA Authenticator does, PBKDF2-HMAC-SHA1 over the hex of the server part
salted with the client part.
"""

from __future__ import annotations

import hashlib
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
CLIENTWAIT = "clientwait"
# privacyIDEA's defaults of the client part's size (bytes) and the PBKDF2 rounds.
TWO_STEP_CLIENTSIZE = 8
TWO_STEP_DIFFICULTY = 10000


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
        two_step = param_bool(params, "2stepinit")
        if generate and params.get("otpkey"):
            raise ParameterError("give either genkey or otpkey, not both")
        if two_step and not generate:
            raise ParameterError("2stepinit needs genkey=1")
        if generate:
            keysize = param_int(params, "keysize", oath.DEFAULT_KEYSIZE[hashlib_name])
            key = os.urandom(param_int(params, "2step_serversize", keysize) if two_step else keysize)
        elif params.get("otpkey"):
            key = decode_key(params)
        else:
            raise ParameterError("missing parameter: otpkey (or genkey=1)")
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        self.enroll_type_specific(params)
        extra: dict[str, str | int] = self._start_two_step(params) if two_step else {}
        if not two_step and self.row.rollout_state == CLIENTWAIT:  # enrolled anew in one step
            self.row.rollout_state = ""
            self.row.active = True
        detail.update(extra)
        if params.get("appimageurl"):
            extra["image"] = str(params["appimageurl"])
        if param_bool(params, "force_app_pin"):
            extra["pin"] = "True"
        label = str(params.get("tokenlabel") or self.serial)
        issuer = str(params.get("tokenissuer") or DEFAULT_ISSUER)
        detail["googleurl"] = googleurl_detail(self.enrollment_uri(key, label, issuer, extra),
                                               image=self.env.qr_images)
        detail["oathurl"] = {"description": "URL for OATH token",
                             "value": f"oathtoken:///addToken?name={quote(label)}&lockdown=true&key={key.hex()}"}
        if generate:
            detail["otpkey"] = {"description": "OTP seed", "value": f"seed://{key.hex()}"}
        return detail

    def _start_two_step(self, params: Mapping[str, Any]) -> dict[str, str | int]:
        """Wait for the client's key part; the parameters the client derives the key with."""
        clientsize = param_int(params, "2step_clientsize", TWO_STEP_CLIENTSIZE)
        difficulty = param_int(params, "2step_difficulty", TWO_STEP_DIFFICULTY)
        if clientsize < 1 or difficulty < 1:
            raise ParameterError("2step_clientsize and 2step_difficulty must be positive")
        self.set_info("2step_clientsize", str(clientsize))
        self.set_info("2step_difficulty", str(difficulty))
        self.row.rollout_state = CLIENTWAIT
        self.row.active = False
        return {"2step_output": oath.DEFAULT_KEYSIZE[self.hashlib_name], "2step_salt": clientsize,
                "2step_difficulty": difficulty}

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = decode_key(params)
        if len(client) != int(self.info("2step_clientsize") or TWO_STEP_CLIENTSIZE):
            raise ParameterError(f"the client key part must have {self.info('2step_clientsize')} bytes")
        rounds = int(self.info("2step_difficulty") or TWO_STEP_DIFFICULTY)
        key = hashlib.pbkdf2_hmac("sha1", self.secret().hex().encode(), client, rounds,
                                  oath.DEFAULT_KEYSIZE[self.hashlib_name])
        self.set_secret(key)
        self.row.count = 0
        self.row.rollout_state = ""
        self.row.active = True
        return {"serial": self.serial, "rollout_state": ""}

    def enroll_type_specific(self, params: Mapping[str, Any]) -> None:
        """Hook for subclasses (TOTP's time step and window)."""

    def enrollment_uri(self, key: bytes, label: str, issuer: str, extra: Mapping[str, str | int]) -> str:
        return otpauth_uri(self.uri_kind, key, label, issuer, digits=self.row.otplen,
                           hashlib_name=self.hashlib_name, counter=self.row.count, extra=extra)

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
