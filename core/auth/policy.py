"""What the engine asks of the policy engine, as one small interface.

The engine reads resolved settings for one request (``AuthSettings``) and never looks at
policies itself, so the policy engine can land without changing the engine. Until then
``StaticPolicies`` answers with the spec's defaults (or fixed settings, in tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from tesserad.core.auth.cache import CacheLimit
from tesserad.core.auth.limits import RateLimit
from tesserad.core.clock import SystemClock
from tesserad.core.policy.matching import PolicySet
from tesserad.core.rights import Rights
from tesserad.core.sessions import USER, Identity
from tesserad.core.tokens.base import ChallengeOptions
from tesserad.core.users.base import User

OTPPIN_VALUES = ("tokenpin", "userstore", "none")
# preferred_client_mode without a policy (privacyIDEA's DEFAULT_PREFERRED_CLIENT_MODE_LIST).
CLIENT_MODES = ("interactive", "webauthn", "poll", "u2f")


@dataclass(frozen=True)
class AuthSettings:
    """Authentication-scope policy values for one request, with the spec's defaults."""

    otppin: str = "tokenpin"
    # Users without tokens authenticate with their user-store password, or (``passthru_server``:
    # the identifier of a RADIUS server definition) at that RADIUS server.
    passthru: bool = False
    passthru_server: str | None = None
    # passthru_assign (pin:6, 6:pin, pin:6:10000): after a RADIUS passthru, the unowned token
    # whose OTP is in the password becomes the user's.
    passthru_assign: str | None = None
    pass_on_no_token: bool = False
    pass_on_no_user: bool = False
    # Token types for which a PIN alone triggers a challenge (e.g. {"hotp", "totp"}).
    challenge_response: frozenset[str] = frozenset()
    challenge_text: str | None = None
    # challenge_text_header / _footer: the message of a challenge, built from the texts of
    # all its tokens (the footer only with a header).
    challenge_text_header: str | None = None
    challenge_text_footer: str | None = None
    # preferred_client_mode: the client modes in order of preference.
    preferred_client_mode: tuple[str, ...] = CLIENT_MODES
    # mangle: user|pass|realm/regex/replacement/ rules, applied in this order.
    mangle: tuple[str, ...] = ()
    # auth_cache: how long (and how often) the same credentials are accepted again.
    auth_cache: CacheLimit | None = None
    increase_failcounter_on_challenge: bool = False
    reset_all_user_tokens: bool = False
    # With AutoResync: a value in the sync window asks for the next one in a challenge.
    resync_via_multichallenge: bool = False
    # A due PIN change is made inside the login (core.auth.pinchange).
    change_pin_via_validate: bool = False
    # A user without a token of this type (hotp, totp) enrolls one inside the login.
    enroll_via_multichallenge: str | None = None
    # indexedsecret_count (None: the system setting) and question_number.
    indexedsecret_count: int | None = None
    question_number: int = 1
    # webauthn_challenge_text, _allowed_transports, _timeout (seconds), _user_verification_requirement.
    webauthn_text: str | None = None
    webauthn_transports: tuple[str, ...] = ("usb", "ble", "nfc", "internal")
    webauthn_timeout: int = 60
    webauthn_user_verification: str = "preferred"
    # Authorization: webauthn_authenticator_selection_list, the AAGUIDs (lower case) that may log in.
    webauthn_aaguids: frozenset[str] | None = None
    # Authorization: webauthn_req, subject|issuer|serial/regex/ on the attestation certificate.
    webauthn_req: str | None = None
    # Authorization scope: successes and failures per user and period (from the audit
    # trail), and the longest a token may have gone without a successful authentication.
    auth_max_success: RateLimit | None = None
    auth_max_fail: RateLimit | None = None
    last_auth: timedelta | None = None
    # Authorization after a right value (which stays used up when these refuse): authorized
    # (deny_access: False), tokentype (allowed types), serial (regex), tokeninfo (key, regex).
    authorized: bool = True
    token_types: frozenset[str] | None = None
    serial_pattern: str | None = None
    tokeninfo_rule: tuple[str, str] | None = None
    # application_tokentype: the client's ``type`` narrows the user's tokens.
    application_tokentype: bool = False
    # What an HTTP answer carries: the user's attributes / realm and resolver, or no detail.
    add_user_in_response: bool = False
    add_resolver_in_response: bool = False
    no_detail_on_success: bool = False
    no_detail_on_fail: bool = False
    # Enrollment scope: a user without tokens takes an unowned realm token by using it
    # (``any_pin`` / ``userstore``, see core.auth.autoassign), None: not at all.
    autoassignment: str | None = None
    # Names of the policies these values came from, for the audit column.
    policy_names: tuple[str, ...] = field(default=())

    @property
    def challenge_options(self) -> ChallengeOptions:
        return ChallengeOptions(self.challenge_text, self.indexedsecret_count, self.question_number,
                                self.webauthn_text, self.webauthn_transports, self.webauthn_timeout,
                                self.webauthn_user_verification)


class AuthPolicies(Protocol):
    def for_request(self, session: Session, user: User | None, client: str) -> AuthSettings:
        """The settings that apply to ``user`` (None for serial-only requests) from ``client``."""

    def set_realm(self, session: Session, user: User, client: str) -> User:
        """The user to authenticate: ``user`` moved to another realm by ``setrealm``, or itself."""

    def user_rights(self, session: Session, user: User | None, client: str) -> Rights:
        """The user-scope rights of ``user`` (None: a serial-only request) and the enrollment
        policies for them, as when the user calls the API: steps of a login that set a PIN
        or enroll a token follow them."""


def user_identity(user: User | None) -> Identity:
    """``user`` as the caller of user-scope policies."""
    if user is None:
        return Identity(USER, "")
    return Identity(USER, user.login, user.realm, user.resolver, user.uid)


class StaticPolicies:
    """The same settings for every request: the defaults, or what a test fixes."""

    def __init__(self, settings: AuthSettings | None = None):
        self.settings = settings or AuthSettings()

    def for_request(self, session: Session, user: User | None, client: str) -> AuthSettings:
        return self.settings

    def set_realm(self, session: Session, user: User, client: str) -> User:
        return user

    def user_rights(self, session: Session, user: User | None, client: str) -> Rights:
        """No user-scope or enrollment policy: the defaults."""
        return Rights(PolicySet((), SystemClock()), user_identity(user), client=client, node="",
                      userinfo=lambda _: {})
