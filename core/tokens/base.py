"""The token class every type derives from: state access, PIN, enrollment and checks.

A TokenClass wraps one ``Token`` row for the length of one request. Its checks are pure:
``check_otp`` says which counter matched but changes nothing. The engine then makes the
change with one conditional UPDATE (``consume``), so an OTP is accepted at most once even
when several processes check it at the same moment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from sqlalchemy import ColumnElement, bindparam, update
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock
from tesserad.core.errors import TesseraError
from tesserad.core.security.base import SecurityModule
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Challenge, Token, TokenInfo
from tesserad.core.store.prepared import Prepared
from tesserad.core.sysconfig import SystemSettings
from tesserad.core.tokens.record import TokenRecord, settle

DEFAULT_CHALLENGE_TEXT = "please enter otp: "
VALIDITY_FORMAT = "%Y-%m-%dT%H:%M%z"
# Tokeninfo: when the PIN must be changed (change_pin_on_first_use, change_pin_every).
NEXT_PIN_CHANGE = "next_pin_change"


def _update(where: list[ColumnElement[bool]], values: Mapping[Any, Any]) -> Prepared:
    return Prepared(update(Token).where(*where).values(values))


def _success_values(counted: bool) -> dict[Any, Any]:
    values: dict[Any, Any] = {Token.failcount: 0, Token.failcount_exceeded_at: None,
                              Token.last_auth_at: bindparam("now")}
    if counted:
        values.update({Token.count_auth: Token.count_auth + 1, Token.count_auth_success: Token.count_auth_success + 1})
    return values


# Built once: statement construction costs more than its execution on the hot path. The
# keys of the dicts say whether the statement also counts the authentication (count_auth).
_BY_ID = Token.id == bindparam("token_id")
_NOT_USED_YET = Token.count <= bindparam("matched")
_CONSUME = _update([_BY_ID, _NOT_USED_YET], {Token.count: bindparam("next")})
_CONSUME_SUCCESS = {counted: _update([_BY_ID, _NOT_USED_YET], {Token.count: bindparam("next"),
                                                               **_success_values(counted)})
                    for counted in (False, True)}
SUCCESS = {counted: _update([_BY_ID], _success_values(counted)) for counted in (False, True)}


class TokenError(TesseraError):
    """A token operation is not possible (privacyIDEA TokenAdminError, 301)."""


class TokenNotFound(TokenError):
    """No token has this serial (privacyIDEA ResourceNotFound, 601)."""


class ParameterError(TesseraError):
    """A request parameter is missing or malformed (privacyIDEA ParameterError, 905)."""


class RealmTokens(Protocol):
    """The tokens of a realm, as the engine lets a meta token (4eyes) use them."""

    def confirm(self, realm: str, block: str, exclude: Collection[str],
                people: Collection[tuple[str, str]]) -> str | None:
        """The serial of the token of ``realm`` whose PIN and OTP value ``block`` is, the value
        used up; None when no token's is. Not one of the serials ``exclude``, nor a token of
        ``people`` (resolver, user id)."""


class Confirmed(Enum):
    """How far the values in one ``pass`` confirm a token that others confirm (4eyes)."""

    ALL = "all"  # every required confirmation is there: the token authenticates
    SOME = "some"  # one value started a confirmation in challenges, one token after the other
    NONE = "none"


@dataclass(frozen=True)
class TokenEnv:
    """What a token class may use besides its own row."""

    security: SecurityModule
    hasher: SecretHasher
    clock: Clock
    settings: SystemSettings
    # Type-specific system settings such as ``totp.timeStep`` or ``hotp.hashlib``.
    extra: Mapping[str, str] = field(default_factory=dict)
    # Whether enrollment details carry QR images (some ms each); a bulk import shows none.
    qr_images: bool = True
    # The tokens of other users, for the engine's checks of a 4eyes token (None elsewhere).
    realm_tokens: RealmTokens | None = None


class InfoItem(Protocol):
    """One tokeninfo entry: a ``TokenInfo`` object, or a row of a plain query."""

    @property
    def key(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def type(self) -> str: ...


@dataclass(frozen=True)
class Success:
    """A successful authentication, recorded by the statement that uses up the OTP value:
    fail counter reset, ``last_auth_at``, and the auth counters unless ``no_auth_counter``."""

    now: datetime
    count_auth: bool = True


@dataclass(frozen=True)
class ChallengeOptions:
    """The authentication policy values that shape the challenges a token issues."""

    text: str | None = None
    # indexedsecret_count: positions asked (None: the system setting, else the type's default).
    position_count: int | None = None
    # question_number: questions asked one after the other in one authentication.
    question_number: int = 1
    # The webauthn_* authentication actions (read by core/tokens/webauthn.py).
    webauthn_text: str | None = None
    webauthn_transports: tuple[str, ...] = ("usb", "ble", "nfc", "internal")
    webauthn_timeout: int = 60
    webauthn_user_verification: str = "preferred"
    # Type-specific texts by policy action (emailtext, emailsubject, email_challenge_text).
    texts: Mapping[str, str] = field(default_factory=dict)
    # push_text_on_mobile / push_title_on_mobile: what the push app shows.
    push_text: str | None = None
    push_title: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message that carries a challenge to the user (email, SMS, push). The engine
    renders ``templates`` (payload key -> text with tags such as ``{otp}``) with ``tags``
    and the owner's attributes and queues it in the outbox with the challenge."""

    channel: str
    templates: Mapping[str, str]
    tags: Mapping[str, str] = field(repr=False)
    # None: the owner's user-store attribute ``recipient_attribute`` (dynamic_email).
    recipient: str | None = None
    recipient_attribute: str = "email"
    # The challenge message when the message cannot be sent.
    failure: str = "The PIN was correct, but the message could not be sent!"
    # The templates are the payload as it is, no tags filled in (push: data the token signed).
    literal: bool = False
    # A failed attempt concerns this recipient only (push: one device's Firebase token), not
    # every message of the channel.
    failing_per_recipient: bool = False


@dataclass
class ChallengeSpec:
    """What a token wants stored and shown for a challenge it issues."""

    message: str
    data: str = ""
    challenge: str = ""
    attributes: dict[str, Any] | None = None
    validity: int | None = None
    notice: Notice | None = None


def param_bool(params: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = params.get(key, default)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def param_int(params: Mapping[str, Any], key: str, default: int, *, allowed: tuple[int, ...] = ()) -> int:
    value = params.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ParameterError(f"{key} must be a number, not {value!r}") from None
    if allowed and number not in allowed:
        raise ParameterError(f"{key} must be one of {', '.join(map(str, allowed))}")
    return number


def decode_key(params: Mapping[str, Any]) -> bytes:
    """The ``otpkey`` parameter as bytes: hex by default, or ``otpkeyformat=base32``."""
    raw = str(params.get("otpkey", "")).strip()
    fmt = str(params.get("otpkeyformat", "hex")).lower()
    try:
        if fmt == "hex":
            return binascii.unhexlify(raw)
        if fmt in ("base32", "base32check"):
            padded = raw.upper() + "=" * (-len(raw) % 8)
            key = base64.b32decode(padded)
            if fmt == "base32check":
                checksum, key = key[:4], key[4:]
                if not hmac.compare_digest(hashlib.sha1(key, usedforsecurity=False).digest()[:4], checksum):
                    raise ParameterError("otpkey: base32check checksum does not match")
            return key
    except (binascii.Error, ValueError):
        raise ParameterError(f"otpkey is not valid {fmt}") from None
    raise ParameterError(f"otpkeyformat must be hex, base32 or base32check, not {fmt!r}")


class TokenClass:
    """Base of all token types. Subclasses set the class attributes and override the
    hooks they need; most types only implement ``enroll`` and ``check_otp``."""

    type: ClassVar[str] = ""
    prefix: ClassVar[str] = "TOK"
    title: ClassVar[str] = ""
    # PIN alone always starts a challenge (email, sms, indexedsecret, ...).
    challenge_always: ClassVar[bool] = False
    # PIN alone starts a challenge only when the challenge_response policy lists the type.
    challenge_by_policy: ClassVar[bool] = False
    client_mode: ClassVar[str] = "interactive"
    user_enrollable: ClassVar[bool] = True
    # spass has no OTP part: the PIN is the whole credential.
    has_otp: ClassVar[bool] = True
    # The token generates OTP values of its own (``/token/getserial`` searches those).
    generates_otp: ClassVar[bool] = True
    # Policy verify_enrollment may hold a new token until the user gives an OTP value.
    verifiable_at_enrollment: ClassVar[bool] = False
    # Out-of-band or slow (push): the engine tries the user's other tokens first.
    sort_last: ClassVar[bool] = False
    # The /token/init parameter whose presence makes a request the second enrollment step.
    second_step_parameter: ClassVar[str] = "otpkey"
    # A WebAuthn assertion (AuthRequest.webauthn), not ``pass``, answers its challenges;
    # RADIUS and PAM cannot carry one.
    answers_assertions: ClassVar[bool] = False
    # Enrolment parameters that may come as a JSON object (privacyIDEA's web UI sends them so).
    structured_parameters: ClassVar[tuple[str, ...]] = ()
    # Tokens of other users confirm it (4eyes): the engine checks it with ``confirm_password``.
    confirmed_by_others: ClassVar[bool] = False
    # What the last check adds to the answer's detail (4eyes: ``foureyes``, the realm short of tokens).
    reply: Mapping[str, str] = MappingProxyType({})

    def __init__(self, row: Token | TokenRecord, env: TokenEnv, info: Iterable[InfoItem] | None = None):
        """``row``: the ORM object, or (the engine's hot path) a TokenRecord with ``info``
        read by the same plain query; the ORM collection ``row.info`` is then loaded only
        if the token changes its info."""
        self.row = row
        self.env = env
        self._info_loaded = info is None
        self._info: dict[str, InfoItem] = {item.key: item for item in (row.info if info is None else info)}

    @property
    def serial(self) -> str:
        return self.row.serial

    # ---- token info --------------------------------------------------------------------

    def info(self, key: str, default: str | None = None) -> str | None:
        item = self._info.get(key)
        return item.value if item is not None else default

    def info_dict(self) -> dict[str, str]:
        """Token info for display; encrypted values are masked."""
        return {k: ("*" * 8 if v.type == "password" else v.value) for k, v in self._info.items()}

    def _stored_info(self) -> dict[str, TokenInfo]:
        """The info as ORM objects, to change them (loaded now if the engine read it plainly)."""
        if not self._info_loaded:
            self._info = {item.key: item for item in self.row.info}
            self._info_loaded = True
        return self._info  # type: ignore[return-value]

    def set_info(self, key: str, value: Any, *, secret: bool = False) -> None:
        text = str(value)
        kind = ""
        if secret:
            text = base64.b64encode(self.env.security.encrypt(
                text.encode(), context=self._context(f"info:{key}"))).decode()
            kind = "password"
        stored = self._stored_info()
        item = stored.get(key)
        if item is None:
            item = TokenInfo(key=key, value=text, type=kind)
            self.row.info.append(item)
            stored[key] = item
        else:
            item.value, item.type = text, kind

    def secret_info(self, key: str) -> str | None:
        item = self._info.get(key)
        if item is None:
            return None
        if item.type != "password":
            return item.value
        return self.env.security.decrypt(base64.b64decode(item.value),
                                         context=self._context(f"info:{key}")).decode()

    def del_info(self, key: str) -> None:
        item = self._stored_info().pop(key, None)
        if item is not None:
            self.row.info.remove(item)

    # ---- PIN change -----------------------------------------------------------------------

    def set_next_pin_change(self, when: datetime) -> None:
        self.set_info(NEXT_PIN_CHANGE, when.strftime(VALIDITY_FORMAT))

    def set_pin_change_every(self, every: str | None, now: datetime) -> None:
        """The PIN was changed: due again after ``every`` (change_pin_every, like 180d),
        or never without it."""
        if every:
            self.set_next_pin_change(now + timedelta(days=int(every.rstrip("dD"))))
        else:
            self.del_info(NEXT_PIN_CHANGE)

    def pin_change_due(self, now: datetime) -> bool:
        """Whether tokeninfo next_pin_change has come (a malformed date counts as due)."""
        value = self.info(NEXT_PIN_CHANGE)
        if not value:
            return False
        try:
            return now >= datetime.strptime(value, VALIDITY_FORMAT)
        except ValueError:
            return True

    # ---- secret and PIN ------------------------------------------------------------------

    def _context(self, purpose: str = "secret") -> bytes:
        return f"token:{self.serial}:{purpose}".encode()

    def secret(self) -> bytes:
        if self.row.secret_enc is None:
            raise TokenError(f"token {self.serial} has no secret")
        return self.env.security.decrypt(self.row.secret_enc, context=self._context())

    def set_secret(self, raw: bytes) -> None:
        self.row.secret_enc = self.env.security.encrypt(raw, context=self._context())

    def set_pin(self, pin: str, *, encrypt: bool = False) -> None:
        """Store the OTP PIN: argon2id hash by default, encrypted with ``encrypt_pin``."""
        if encrypt:
            self.row.pin_enc = self.env.security.encrypt(pin.encode(), context=self._context("pin"))
            self.row.pin_hash = None
        else:
            self.row.pin_hash = self.env.hasher.hash(pin)
            self.row.pin_enc = None

    @property
    def pin_hashed(self) -> bool:
        """Checking the PIN costs a slow hash (not stored encrypted, and a PIN is set)."""
        return self.row.pin_enc is None and self.row.pin_hash is not None

    def check_pin(self, pin: str) -> bool:
        """Constant-time check; a token without a PIN matches only the empty PIN."""
        if self.row.pin_enc is not None:
            stored = self.env.security.decrypt(self.row.pin_enc, context=self._context("pin"))
            return hmac.compare_digest(stored, pin.encode())
        if self.row.pin_hash is not None:
            return self.env.hasher.verify(self.row.pin_hash, pin)
        return hmac.compare_digest(pin.encode(), b"")

    # ---- enrollment ----------------------------------------------------------------------

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the enrollment parameters of ``/token/init``; returns the type's part of
        the response ``detail``. The base handles what every type shares."""
        if "description" in params:
            self.row.description = str(params["description"])[:255]
        return {}

    def referenced_realms(self) -> Collection[str]:
        """The realms the token's parameters name (they must exist); none by default."""
        return ()

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The second step of a two-step enrolment (rollout state ``clientwait``): the final
        key from the client's key part in ``otpkey``; the answer's ``detail``."""
        raise ParameterError(f"{self.type} tokens are not enrolled in two steps")

    # ---- authentication ------------------------------------------------------------------

    def split_pin(self, passw: str) -> tuple[str, str]:
        """(PIN, OTP) from the ``pass`` value, per system setting PrependPin."""
        if not self.has_otp:
            return passw, ""
        n = self.row.otplen
        if len(passw) < n:
            return "", passw  # too short to hold an OTP: all of it is the OTP part, as in the spec
        if self.env.settings.PrependPin:
            return passw[:len(passw) - n], passw[len(passw) - n:]
        return passw[n:], passw[:n]

    def check_otp(self, otp: str) -> int:
        """The counter that ``otp`` matches (>= 0), or -1. Changes nothing."""
        return -1

    def check_otp_within(self, otp: str, count: int) -> int:
        """``check_otp`` over the next ``count`` values where the type counts them (a token
        found by its OTP alone, passthru_assign); other types keep their own window."""
        return self.check_otp(otp)

    def previously_used(self, otp: str) -> bool:
        """True when ``otp`` was valid once but is consumed (message "previous otp used again")."""
        return False

    def next_count(self, matched: int) -> int | None:
        """``count`` once ``matched`` is used up; None for types without a counter (then
        ``use_up`` says whether the value was still there)."""
        return matched + 1

    def use_up(self, session: Session, matched: int) -> bool:
        """Types without a counter: use up ``matched`` atomically (a TAN is deleted);
        False if another request already did. Nothing to use up by default."""
        return True

    def consume(self, session: Session, matched: int, success: Success | None = None) -> bool:
        """Atomically use up ``matched``: the counter moves past it with one conditional
        UPDATE; False if another request already did (a concurrent use or a replay). With
        ``success`` the same statement records the successful authentication, so that a
        login costs one UPDATE and a replay can never count as a success."""
        following = self.next_count(matched)
        if following is None:
            if not self.use_up(session, matched):
                return False
            if success is not None:
                SUCCESS[success.count_auth].execute(session, {"token_id": self.row.id, "now": success.now})
            return True
        params: dict[str, Any] = {"token_id": self.row.id, "matched": matched, "next": following}
        if success is None:
            statement = _CONSUME
        else:
            statement, params["now"] = _CONSUME_SUCCESS[success.count_auth], success.now
        if statement.execute(session, params).rowcount != 1:
            return False
        settle(self.row, "count", following)
        return True

    def is_challenge_request(self, policy_types: frozenset[str]) -> bool:
        """May a PIN alone ask this token for a challenge? (The engine then checks that the
        whole ``pass`` is the PIN.) ``policy_types`` is the challenge_response policy."""
        return self.challenge_always or (self.challenge_by_policy and self.type in policy_types)

    def triggerable(self, policy_types: frozenset[str]) -> bool:
        """May ``/validate/triggerchallenge`` start a challenge for this challenge-capable
        token? ``policy_types``: the challenge_response types (a passkey needs its policy)."""
        return True

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        return ChallengeSpec(message=options.text or DEFAULT_CHALLENGE_TEXT)

    def next_notice(self, options: ChallengeOptions) -> Notice | None:
        """The message that carries the next value without a challenge (emailautosend), or None."""
        return None

    def check_challenge(self, answer: str, challenge: Challenge) -> int:
        """Check the answer to the stored ``challenge``; push tokens look at its state."""
        return self.check_challenge_response(answer, challenge.data)

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        """Check the answer to a challenge this token issued; counter or -1."""
        return self.check_otp(answer)

    def confirm_password(self, password: str) -> Confirmed:
        """Types ``confirmed_by_others``: how far the values in ``password`` confirm the
        token (the values used up as they confirm); sets ``reply`` for the answer."""
        raise TokenError(f"{self.type} tokens are not confirmed by other tokens")

    def check_assertion(self, response: Any, challenge_data: str) -> int:
        """Types that ``answers_assertions``: the counter the WebAuthn answer ``response``
        (a core.webauthn.wire.SignResponse, or None) presents, or -1."""
        return -1

    def next_challenge(self, challenge_data: str, options: ChallengeOptions) -> ChallengeSpec | None:
        """After a right answer to the challenge with ``challenge_data``: the next challenge
        of a multi-step authentication, or None when the answer completes it."""
        return None

    def sync_counter(self, otp: str) -> int:
        """The counter ``otp`` matches within the sync window (resync, AutoResync), or -1."""
        return -1

    def resync(self, otp1: str, otp2: str) -> int | None:
        """The counter after two consecutive values, or None; types without counters: None."""
        return None

    def post_success(self, session: Session) -> None:
        """Hook after a successful authentication (registration tokens delete themselves)."""

    # ---- state checks ----------------------------------------------------------------------

    def validity_problem(self, now: datetime, *, lock_expired: bool = False) -> str | None:
        """Why this token may not authenticate now, in the spec's words, or None.
        ``lock_expired``: the fail counter lock is past ``failcounter_clear_timeout``."""
        row = self.row
        if row.rollout_state in ("clientwait", "verify", "pending"):
            return "Token is not yet enrolled"
        if not row.active:
            return "Token is disabled"
        if row.failcount >= row.maxfail and not lock_expired:
            return "Failcounter exceeded"
        maximum = self.info("count_auth_max")
        if maximum and row.count_auth >= int(maximum):
            return "Authentication counter exceeded"
        maximum = self.info("count_auth_success_max")
        if maximum and row.count_auth_success >= int(maximum):
            return "Authentication counter exceeded"
        start, end = self.info("validity_period_start"), self.info("validity_period_end")
        if start and now < datetime.strptime(start, VALIDITY_FORMAT):
            return "Outside validity period"
        if end and now > datetime.strptime(end, VALIDITY_FORMAT):
            return "Outside validity period"
        return None
