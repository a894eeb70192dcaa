"""The 4eyes token: a two-man rule. It has no secret of its own; tokens of the realms it
names confirm it, each with its PIN and OTP value.

Enrolment (``/token/init type=4eyes``) takes ``4eyes``, the realms and how many distinct
tokens of each must confirm (``realm1:2,realm2:1``, or the web UI's JSON form), and
``separator``, the one character between the values (default blank). A login with the
4eyes token either gives all values at once (``pin1otp1 pin2otp2 ...``, any order), or
one after the other: its own PIN (or the first value alone) opens a challenge, and each
answer is the value of one more token until every realm has its count.

Only other users confirm: the tokens of the 4eyes token's owner do not count (so their own
logins with those tokens stay theirs). As the spec says, a token counts once, but two tokens
of one other user count twice: a realm whose users should each count once allows one token
per user (``max_token_per_user``).
The engine finds and uses up the other tokens' values (``TokenEnv.realm_tokens``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from tesserad.core.store.models import Challenge
from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    Confirmed,
    ParameterError,
    TokenClass,
    TokenError,
)
from tesserad.core.tokens.registry import register

REQUIRED_KEY = "4eyes"
SEPARATOR_KEY = "separator"
DEFAULT_SEPARATOR = " "
# A two-man rule of more people, or over more realms, is a mistake, not a policy.
MAX_REALMS = 10
MAX_COUNT = 10
MAX_PARAMETER = 2048

Confirmation = tuple[str, str]  # (realm, serial of the token that confirmed)


def parse_required(value: Any) -> dict[str, int]:
    """The ``4eyes`` parameter as {realm: count}: ``realm1:2,realm2:1``, or the web UI's
    {realm: {"selected": true, "count": 2}} (as a mapping or its JSON)."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
        if not isinstance(value, Mapping):
            raise ParameterError("4eyes: not a JSON object of realms")
    if isinstance(value, Mapping):
        return _checked([(str(realm), _ui_count(entry)) for realm, entry in value.items()
                         if not isinstance(entry, Mapping) or entry.get("selected", True)])
    text = str(value or "").strip()
    if not text:
        raise ParameterError("missing parameter: 4eyes (the realms and counts, like realm1:2,realm2:1)")
    if len(text) > MAX_PARAMETER:
        raise ParameterError("4eyes is too long")
    entries = []
    for entry in text.split(","):
        realm, colon, count = entry.strip().partition(":")
        if not colon:
            raise ParameterError(f"4eyes: {entry.strip()[:40]!r} is not realm:count")
        entries.append((realm.strip(), count.strip()))
    return _checked(entries)


def _ui_count(entry: Any) -> Any:
    return entry.get("count") if isinstance(entry, Mapping) else entry


def _checked(entries: list[tuple[str, Any]]) -> dict[str, int]:
    required: dict[str, int] = {}
    for realm, raw in entries:
        name = realm.lower()
        if not name or not name.replace("_", "").replace(".", "").replace("-", "").isalnum():
            raise ParameterError(f"4eyes: {realm[:40]!r} is not a realm name")
        if name in required:
            raise ParameterError(f"4eyes: realm {name} is named twice")
        try:
            count = int(str(raw))
        except ValueError:
            raise ParameterError(f"4eyes: the count of realm {name} must be a number") from None
        if not 1 <= count <= MAX_COUNT:
            raise ParameterError(f"4eyes: the count of realm {name} must be 1 to {MAX_COUNT}")
        required[name] = count
    if not required:
        raise ParameterError("4eyes: name at least one realm")
    if len(required) > MAX_REALMS:
        raise ParameterError(f"4eyes: at most {MAX_REALMS} realms")
    return required


def _format(required: Mapping[str, int]) -> str:
    return ",".join(f"{realm}:{count}" for realm, count in required.items())


@register
class FourEyesToken(TokenClass):
    type = "4eyes"
    prefix = "PI4E"
    title = "Four Eyes Token: tokens of other users confirm"
    user_enrollable = False
    has_otp = False
    generates_otp = False
    confirmed_by_others = True
    structured_parameters = (REQUIRED_KEY,)

    # The confirmations of this request (set by a check, read by the next challenge).
    _confirmed: tuple[Confirmation, ...] | None = None

    # ---- enrolment ---------------------------------------------------------------------------

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        required = parse_required(params.get(REQUIRED_KEY))
        separator = str(params.get(SEPARATOR_KEY) or DEFAULT_SEPARATOR)
        if len(separator) != 1 or separator.isalnum():
            raise ParameterError("separator must be one character that is neither a letter nor a digit")
        self.set_info(REQUIRED_KEY, _format(required))
        self.set_info(SEPARATOR_KEY, separator)
        return detail

    def referenced_realms(self) -> Collection[str]:
        return list(self.required())

    # ---- what is required, what is there -----------------------------------------------------

    def required(self) -> dict[str, int]:
        stored = self.info(REQUIRED_KEY)
        if not stored:
            raise TokenError(f"The 4eyes token {self.serial} names no realms.")
        return parse_required(stored)

    def separator(self) -> str:
        return self.info(SEPARATOR_KEY) or DEFAULT_SEPARATOR

    def missing(self, confirmed: Collection[Confirmation]) -> dict[str, int]:
        """{realm: how many tokens more}, for the realms still short, in the token's order."""
        required = self.required()
        for realm, _ in confirmed:
            if realm in required:
                required[realm] -= 1
        return {realm: count for realm, count in required.items() if count > 0}

    def _confirm(self, password: str, confirmed: tuple[Confirmation, ...]) -> tuple[Confirmation, ...]:
        """``confirmed`` and what the values in ``password`` add: each value confirms at most
        one token, of a realm still short, that has not confirmed yet. More values than
        tokens are missing are refused unchecked (each costs a search of a realm)."""
        realm_tokens = self.env.realm_tokens
        if realm_tokens is None:
            raise TokenError("4eyes tokens are checked by the authentication engine")
        values = [value for value in password.split(self.separator()) if value]
        outstanding = sum(self.missing(confirmed).values())
        if len(values) > outstanding:
            self.reply = {"foureyes": f"{len(values)} values given, but only {outstanding} tokens are missing"}
            return confirmed
        done = list(confirmed)
        owners = {(owner.resolver, owner.user_id) for owner in self.row.owners}
        for value in values:
            for realm in self.missing(done):
                serial = realm_tokens.confirm(realm, value, {self.serial, *(s for _, s in done)}, owners)
                if serial is not None:
                    done.append((realm, serial))
                    break
        return tuple(done)

    # ---- authentication ------------------------------------------------------------------------

    def confirm_password(self, password: str) -> Confirmed:
        """All values at once, or a single value that starts the challenges."""
        self._confirmed = self._confirm(password, ())
        if not self.missing(self._confirmed):
            return Confirmed.ALL
        if self._confirmed and self.separator() not in password:
            return Confirmed.SOME
        if not self.reply:
            realm = next(iter(self.missing(self._confirmed)))
            found = sum(1 for confirmed, _ in self._confirmed if confirmed == realm)
            self.reply = {"foureyes": f"Only found {found} tokens in realm {realm}"}
        return Confirmed.NONE

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        """A challenge for the next token (after the PIN, or after a first value)."""
        confirmed = self._confirmed or ()
        wanted = ", ".join(f"{count} of realm {realm}" for realm, count in self.missing(confirmed).items())
        return ChallengeSpec(message=f"Please enter the PIN and OTP value of a further token: {wanted} missing.",
                             data=",".join(f"{realm}:{serial}" for realm, serial in confirmed))

    def check_challenge(self, answer: str, challenge: Challenge) -> int:
        """Right when the answer confirms one more token (or several, separated)."""
        confirmed = _parse(challenge.data)
        if confirmed is None:
            return -1
        done = self._confirm(answer, confirmed)
        if len(done) == len(confirmed):
            return -1
        self._confirmed = done
        return 0

    def next_challenge(self, challenge_data: str, options: ChallengeOptions) -> ChallengeSpec | None:
        if self._confirmed is None:
            self._confirmed = _parse(challenge_data) or ()
        return self.create_challenge(options) if self.missing(self._confirmed) else None

    def next_count(self, matched: int) -> None:
        return None  # nothing of its own to use up: the confirming tokens' values are


def _parse(data: str) -> tuple[Confirmation, ...] | None:
    """A challenge's ``data``: ``realm:serial,...`` of the tokens that confirmed; None when malformed."""
    if not data:
        return ()
    confirmed = []
    for entry in data.split(","):
        realm, colon, serial = entry.partition(":")
        if not colon or not realm or not serial:
            return None
        confirmed.append((realm, serial))
    return tuple(confirmed)
