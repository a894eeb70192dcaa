"""The email token: a PIN asks for a challenge, and the OTP (HOTP at the token's counter)
goes to the user's address by email, queued in the outbox with the challenge.

The answer is the OTP (with ``transaction_id``, or PIN+OTP), checked like HOTP and used
up by the same conditional UPDATE, so one mailed value logs in once. The address is the
token's (``email``) or, with ``dynamic_email``, the owner's ``email`` attribute read from
the user store at each challenge. The SMTP server is tokeninfo ``email.identifier`` or the
system setting of that name; ``email.validtime`` (default 120 s) is how long the mailed
value stays answerable. The auth policies ``emailtext`` (``file:/path``: an HTML template),
``emailsubject`` and ``email_challenge_text`` shape the mail and the challenge; with
``emailautosend`` a successful login mails the next value at once (for a PIN+OTP login).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tesserad.core import smtp_servers
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    Notice,
    ParameterError,
    TokenClass,
    TokenError,
    decode_key,
    param_bool,
    param_int,
)
from tesserad.core.tokens.hotp import HotpToken
from tesserad.core.tokens.registry import register

DEFAULT_TEXT = "<otp>"
DEFAULT_SUBJECT = "Your OTP"
DEFAULT_CHALLENGE_TEXT = "Enter the OTP from the Email"
FAILURE = "The PIN was correct, but the EMail could not be sent!"
DEFAULT_VALIDITY = 120
IDENTIFIER = "email.identifier"
FILE_PREFIX = "file:"


@register
class EmailToken(HotpToken):
    type = "email"
    prefix = "PIEM"
    title = "EMail Token"
    challenge_always = True
    challenge_by_policy = False
    verifiable_at_enrollment = False

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = TokenClass.enroll(self, params)
        if param_bool(params, "dynamic_email"):
            self.set_info("dynamic_email", "1")
            self.del_info("email")
        else:
            address = str(params.get("email") or "").strip()
            if not address:
                raise ParameterError("missing parameter: email (or dynamic_email=1)")
            self.set_info("email", smtp_servers.check_address("email", address))
            self.del_info("dynamic_email")
        identifier = str(params.get(IDENTIFIER) or "").strip()
        if identifier:
            self.set_info(IDENTIFIER, identifier)
        self.set_info("hashlib", "sha1")
        self.row.otplen = param_int(params, "otplen", self.env.settings.DefaultOtpLen, allowed=(6, 8))
        key = decode_key(params) if params.get("otpkey") else os.urandom(oath.DEFAULT_KEYSIZE["sha1"])
        if not key:
            raise ParameterError("otpkey must not be empty")
        self.set_secret(key)
        self.row.count = 0
        return detail

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        notice = self.next_notice(options)
        message = options.texts.get("email_challenge_text") or DEFAULT_CHALLENGE_TEXT
        return ChallengeSpec(message=message if notice else FAILURE, validity=self._validity(), notice=notice)

    def next_notice(self, options: ChallengeOptions) -> Notice | None:
        """The mail with the value at the token's counter; None without an SMTP server."""
        texts = options.texts
        identifier = self.info(IDENTIFIER) or self.env.extra.get(IDENTIFIER, "")
        if not identifier:
            return None
        otp = oath.hotp(self.secret(), self.row.count, self.row.otplen, self.hashlib_name)
        body, mime = _body(texts.get("emailtext") or DEFAULT_TEXT)
        return Notice(smtp_servers.channel(identifier),
                      {"subject": texts.get("emailsubject") or DEFAULT_SUBJECT, "body": body, "mime": mime},
                      {"otp": otp, "serial": self.serial, "tokentype": self.type},
                      recipient=None if self.info("dynamic_email") == "1" else self.info("email"), failure=FAILURE)

    def _validity(self) -> int:
        raw = self.env.extra.get("email.validtime", "").strip()
        return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_VALIDITY

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ParameterError("email tokens are not enrolled in two steps")


def _body(text: str) -> tuple[str, str]:
    """The mail body and its type: ``file:/path`` is an HTML template, else plain text."""
    if not text.startswith(FILE_PREFIX):
        return text, "text/plain"
    try:
        return Path(text[len(FILE_PREFIX):]).read_text(encoding="utf-8"), "text/html"
    except (OSError, UnicodeDecodeError):
        raise TokenError("The email template of the emailtext policy cannot be read") from None
