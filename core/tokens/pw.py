"""Password token: a fixed secret as the OTP part (also the temporary token of /token/lost)."""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Mapping
from typing import Any

from tesserad.core.tokens.base import ParameterError, TokenClass, param_bool, param_int
from tesserad.core.tokens.registration import MAX_LENGTH, generate_code
from tesserad.core.tokens.registry import register

DEFAULT_LENGTH = 12

# The spec's "cn" contents: letters and digits, without look-alikes.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OIl1")


def random_password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


@register
class PasswordToken(TokenClass):
    type = "pw"
    prefix = "PW"
    title = "Password Token"
    user_enrollable = False
    generates_otp = False

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        if param_bool(params, "genkey"):
            # pw.length/pw.contents: set by the enrollment policies of the same name.
            length = param_int(params, "pw.length",
                               param_int(params, "otplen", int(self.env.extra.get("pw.length", DEFAULT_LENGTH))))
            if not 1 <= length <= MAX_LENGTH:
                raise ParameterError(f"pw.length must be 1..{MAX_LENGTH}")
            contents = params.get("pw.contents")
            password = generate_code(length, str(contents)) if contents else random_password(length)
            detail["password"] = password
        elif params.get("otpkey"):
            password = str(params["otpkey"])
        else:
            raise ParameterError("missing parameter: otpkey (the password) or genkey=1")
        self.row.otplen = len(password)
        self.set_secret(password.encode())
        return detail

    def check_otp(self, otp: str) -> int:
        return 0 if hmac.compare_digest(self.secret(), otp.encode()) else -1

    def next_count(self, matched: int) -> None:
        return None  # a password is not used up
