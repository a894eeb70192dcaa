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

from tesserad.core.sms.gateways import checked_phone
from tesserad.core.tokens.base import ChallengeOptions, ChallengeSpec, Notice
from tesserad.core.tokens.messaged import MessagedToken
from tesserad.core.tokens.registry import register

DEFAULT_TEXT = "<otp>"
DEFAULT_CHALLENGE_TEXT = "Enter the OTP from the SMS:"
FAILURE = "The PIN was correct, but the SMS could not be sent!"


@register
class SmsToken(MessagedToken):
    type = "sms"
    prefix = "PISM"
    title = "SMS Token"
    address = "phone"
    dynamic = "dynamic_phone"
    identifier_key = "sms.identifier"
    validity_keys = ("sms.validtime", "sms.providerTimeout")
    default_validity = 300

    def check_address(self, address: str) -> str:
        return checked_phone(address)

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        texts = options.texts
        message = texts.get("sms_challenge_text") or DEFAULT_CHALLENGE_TEXT
        identifier = self.identifier()
        if not identifier:
            return ChallengeSpec(message=FAILURE, validity=self.validity())
        notice = Notice(f"sms:{identifier}", {"text": texts.get("smstext") or DEFAULT_TEXT}, self.tags(),
                        recipient=self.fixed_address(), recipient_attribute="mobile", failure=FAILURE)
        return ChallengeSpec(message=message, validity=self.validity(), notice=notice)
