"""change_pin_via_validate: a PIN change that is due is made inside the login.

``change_pin_on_first_use`` and ``change_pin_every`` (enrollment scope) date a token's PIN
change in tokeninfo ``next_pin_change``. Once that date has come, a successful login
answers with a challenge for a new PIN instead of an acceptance, then with one for the
same PIN again; only when both answers match is the PIN set (and next_pin_change moved
on by change_pin_every, or removed) and the login accepted. The new PIN must follow the
user's PIN rules (otp_pin_minlength, otp_pin_maxlength, otp_pin_contents in the user
scope, as when users set their PIN themselves); a PIN that breaks them is refused with the
rule's message and the challenge stays open for another try. Between the two steps the
challenge keeps only an argon2id hash of the first answer.

Without the policy a due change does not hold up the login: the answer says
``pin_change`` and leaves the change to the application, as privacyIDEA does.
"""

from __future__ import annotations

from tesserad.core.store.models import Challenge
from tesserad.core.tokens.base import ChallengeSpec

# The challenge column of a PIN change (token challenges never use it this way).
MARK = "pinchange"
NEW_PIN = "Please enter a new PIN"
AGAIN = "Please enter the new PIN again"
DONE = "PIN successfully set."
MISMATCH = "PINs do not match"


def first() -> ChallengeSpec:
    return ChallengeSpec(message=NEW_PIN, challenge=MARK)


def again(pin_hash: str) -> ChallengeSpec:
    return ChallengeSpec(message=AGAIN, challenge=MARK, data=pin_hash)


def is_pin_change(row: Challenge) -> bool:
    return row.challenge == MARK
