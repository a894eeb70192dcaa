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

from pathlib import Path

from tesserad.core import smtp_servers
from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    Notice,
    TokenError,
)
from tesserad.core.tokens.messaged import MessagedToken
from tesserad.core.tokens.registry import register

DEFAULT_TEXT = "<otp>"
DEFAULT_SUBJECT = "Your OTP"
DEFAULT_CHALLENGE_TEXT = "Enter the OTP from the Email"
FAILURE = "The PIN was correct, but the EMail could not be sent!"
DEFAULT_VALIDITY = 120
IDENTIFIER = "email.identifier"
FILE_PREFIX = "file:"


@register
class EmailToken(MessagedToken):
    type = "email"
    prefix = "PIEM"
    title = "EMail Token"
    address = "email"
    dynamic = "dynamic_email"
    identifier_key = IDENTIFIER
    validity_keys = ("email.validtime",)
    default_validity = DEFAULT_VALIDITY

    def check_address(self, address: str) -> str:
        return smtp_servers.check_address("email", address)

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        notice = self.next_notice(options)
        message = options.texts.get("email_challenge_text") or DEFAULT_CHALLENGE_TEXT
        return ChallengeSpec(message=message if notice else FAILURE, validity=self.validity(), notice=notice)

    def next_notice(self, options: ChallengeOptions) -> Notice | None:
        """The mail with the value at the token's counter; None without an SMTP server."""
        texts = options.texts
        identifier = self.identifier()
        if not identifier:
            return None
        body, mime = _body(texts.get("emailtext") or DEFAULT_TEXT)
        return Notice(smtp_servers.channel(identifier),
                      {"subject": texts.get("emailsubject") or DEFAULT_SUBJECT, "body": body, "mime": mime},
                      self.tags(), recipient=self.fixed_address(), failure=FAILURE)


def _body(text: str) -> tuple[str, str]:
    """The mail body and its type: ``file:/path`` is an HTML template, else plain text."""
    if not text.startswith(FILE_PREFIX):
        return text, "text/plain"
    try:
        return Path(text[len(FILE_PREFIX):]).read_text(encoding="utf-8"), "text/html"
    except (OSError, UnicodeDecodeError):
        raise TokenError("The email template of the emailtext policy cannot be read") from None
