"""The authentication engine: the spec's ``/validate/check`` token walk, in one place.

For each of the user's tokens the engine classifies the request as an answer to a
challenge, a request for a challenge, or a PIN+OTP attempt, and decides with the spec's
precedence: valid > challenge answered > challenge requested > right PIN (wrong OTP) >
wrong PIN. Every counter change is one atomic UPDATE, so a value is accepted at most once
and fail counters add up across processes; a PIN+OTP login uses up the value and records
the success in the same statement.

A costly PIN check (an argon2id hash, a user-store bind) runs only once the OTP part
matched: a wrong OTP is refused with a few HMACs whatever the hash parameters, so a flood
of guesses cannot buy hash computations (nor directory binds). Such a refusal cannot say
whether the PIN was right: its message is "wrong otp pin or otp value" and it counts as a
failure of every token tried. A cheap PIN (stored encrypted, or ``otppin=none``) is
checked as the spec says, with its two messages.

A granted login may have a step to go (``_next_step``): a due PIN change
(core.auth.pinchange) or the enrollment of a first token (core.auth.enroll_at_login), each
a challenge of its own that the same walk answers.
Around the walk, in privacyIDEA's order: ``mangle`` rewrites the request before the user
is looked up for good (core/auth/mangle.py); ``auth_cache`` may accept a user's repeated
credentials without the walk and remembers a successful login (core/auth/cache.py); after
an acceptance the authorization policies may refuse, then the offline bag is issued. A
challenge lives as long as its token type's validity setting says, and its message and
preferred client mode follow ``challenge_text_header``/``_footer`` and
``preferred_client_mode`` (core/auth/presentation.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tesserad.core import radius_client, radius_servers
from tesserad.core.auth import cache, challenges, counters, enroll_at_login, pinchange, resync
from tesserad.core.auth.autoassign import ASSIGNED_MESSAGE, autoassign, passthru_assign
from tesserad.core.auth.confirmations import RealmConfirmations
from tesserad.core.auth.limits import RateLimit
from tesserad.core.auth.mangle import mangled
from tesserad.core.auth.policy import AuthPolicies, AuthSettings
from tesserad.core.auth.presentation import challenge_message, preferred_client_mode
from tesserad.core.auth.request import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    AuthRequest,
    AuthResult,
    IssuedChallenge,
    NotAuthorized,
    Outcome,
)
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.enrollment import Enrollment
from tesserad.core.errors import TesseraError
from tesserad.core.machines import offline
from tesserad.core.outbox import Outbox
from tesserad.core.outbox.templates import owner_tags, render
from tesserad.core.policy.actions import ENROLL
from tesserad.core.policy.errors import PolicyError
from tesserad.core.rights import PolicyDenied, Target
from tesserad.core.security.base import SecurityModule
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Challenge, Token, TokenInfo, TokenOwner
from tesserad.core.store.prepared import Prepared
from tesserad.core.sysconfig import SystemConfig, SystemSettings, challenge_validity
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import (
    NEXT_PIN_CHANGE,
    ChallengeSpec,
    Confirmed,
    Notice,
    ParameterError,
    Success,
    TokenClass,
    TokenEnv,
    TokenError,
    TokenNotFound,
)
from tesserad.core.tokens.ownership import OWNER_BY_PARAMS, owner_params, owns
from tesserad.core.tokens.record import TokenRecord
from tesserad.core.tokens.registry import token_class
from tesserad.core.tokens.service import TokenService
from tesserad.core.tokens.webauthn import attestation_matches
from tesserad.core.users.base import User, UserError
from tesserad.core.users.directory import Directory
from tesserad.core.webauthn.errors import WebAuthnRefused

log = logging.getLogger(__name__)

# The hot path's one query, built once: a user's tokens, each with its info, as plain rows
# (ORM objects cost more to build than the rest of the check; see TokenRecord).
_TOKEN_COLUMNS = tuple(Token.__table__.columns.keys())
_TOKENS_OF_USER = Prepared(select(*Token.__table__.columns, TokenInfo.key, TokenInfo.value, TokenInfo.type)
                            .join(TokenOwner, TokenOwner.token_id == Token.id)
                            .outerjoin(TokenInfo, TokenInfo.token_id == Token.id)
                            .where(OWNER_BY_PARAMS))
# The key of the decoy OTP check for users without tokens (see Engine._decoy).
_DECOY_KEY = os.urandom(20)


@dataclass(frozen=True)
class Verdict:
    """Whether a token whose OTP matched may log in now."""

    # The token's state (the spec's check_all), added to "matching N tokens".
    problem: str | None = None
    # An authorization limit (auth_max_*, last_auth): the whole message.
    denial: str | None = None
    # The fail counter lock is past failcounter_clear_timeout: the right OTP clears it.
    lock_expired: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None and self.denial is None


@dataclass
class Walk:
    """The tokens of one request, sorted into the spec's classes."""

    valid: list[tuple[TokenClass, Verdict]] = field(default_factory=list)
    answered: list[tuple[TokenClass, Challenge]] = field(default_factory=list)
    unanswered: list[TokenClass] = field(default_factory=list)
    challenge_requested: list[TokenClass] = field(default_factory=list)
    # Right PIN, value in the sync window (resync_via_multichallenge): the counter it matched.
    resync_requested: list[tuple[TokenClass, int]] = field(default_factory=list)
    pin_matching: list[tuple[TokenClass, bool]] = field(default_factory=list)
    invalid: list[TokenClass] = field(default_factory=list)
    # The OTP part was wrong and the PIN too costly to check for nothing (with "replayed").
    unchecked: list[tuple[TokenClass, bool]] = field(default_factory=list)
    # Why WebAuthn answers were refused (origin, signature, a counter that went back), for the audit.
    refusals: list[str] = field(default_factory=list)


@dataclass
class RequestState:
    """Per-request facts the walk needs, computed once."""

    now: datetime
    settings: AuthSettings
    system: SystemSettings
    env: TokenEnv
    user: User | None
    # User-store password checks by candidate PIN: a bind or hash costs, do it once.
    userstore: dict[str, bool] = field(default_factory=dict)
    # Whether the user reached the auth_max_* limit of an outcome: each read once.
    limits: dict[Outcome, bool] = field(default_factory=dict)
    # The tokens that authenticated (for the authorization policies).
    accepted: list[TokenClass] = field(default_factory=list)

    @property
    def count_auth(self) -> bool:
        return not self.system.no_auth_counter

    @property
    def success(self) -> Success:
        return Success(self.now, count_auth=self.count_auth)


@dataclass
class Services:
    """The engine's core.token_access.Services, for the login steps that enroll or set PINs."""

    tokens: TokenService
    directory: Directory


def validate_request(req: AuthRequest) -> None:
    """Refuse malformed input before any lookup (nothing is read or written)."""
    if len(req.password) > MAX_PASSWORD_LENGTH:
        raise ParameterError(f"pass is longer than {MAX_PASSWORD_LENGTH} characters")
    for name, value in (("user", req.user), ("realm", req.realm), ("serial", req.serial),
                        ("transaction_id", req.transaction_id), ("type", req.token_type)):
        if value is not None and (len(value) > MAX_NAME_LENGTH or "\x00" in value):
            raise ParameterError(f"{name} is malformed")
    if not req.user and not req.serial:
        raise ParameterError("missing parameter: user or serial")
    if req.transaction_id is not None and not challenges.is_transaction_id(req.transaction_id):
        raise ParameterError("transaction_id is malformed")
    if req.webauthn is not None:
        if not req.transaction_id:
            raise ParameterError("missing parameter: transaction_id (a WebAuthn answer answers a challenge)")
        req.webauthn.decoded  # noqa: B018 -- decoding is the check: WebAuthnInputError names the field


class Engine:
    def __init__(self, *, security: SecurityModule, hasher: SecretHasher, clock: Clock,
                 directory: Directory, sysconfig: SystemConfig, policies: AuthPolicies,
                 tokens: TokenService | None = None, outbox: Outbox | None = None):
        self.security = security
        # Where the messages of email (and SMS) challenges are queued; without one they cannot be sent.
        self.outbox = outbox
        self.hasher = hasher
        self.clock = clock
        self.directory = directory
        self.sysconfig = sysconfig
        self.policies = policies
        self.services = Services(tokens or TokenService(security, hasher, clock, sysconfig), directory)

    # ---- entry point ---------------------------------------------------------------------

    def check(self, session: Session, req: AuthRequest) -> AuthResult:
        """Decide one request inside the caller's transaction (the caller commits, and
        raises ``result.refusal`` if an authorization policy refused): mangle, the auth
        cache or the walk, then authorization, the offline bag and the cache entry."""
        validate_request(req)
        try:
            state = self._state(session, req)
        except UserError:
            # privacyIDEA rewrites before it needs the user: a realm or name only the rewrite makes valid.
            changed, state = self._mangled(session, req, self._state(session, req, as_given=True))
            if (changed.user, changed.realm) == (req.user, req.realm):
                raise
            req = changed
        else:
            if state.settings.mangle:
                req, state = self._mangled(session, req, state)
        cacheable = self._cacheable(req, state)
        cached = self._cache_hit(session, req, state) if cacheable else None
        result = cached or self._decide(session, req, state)
        if result.accepted:
            result.refusal = self._authorization_refusal(state, result)
            if result.refusal is None:
                result = self._next_step(session, req, state, result)
            if result.accepted and result.refusal is None:
                result.auth_items = offline.auth_items(session, req, result, state.env)
                if cacheable and not cached:
                    assert state.user is not None and state.settings.auth_cache is not None
                    cache.remember(session, self.hasher, state.settings.auth_cache, state.user, req.password,
                                   state.now)
        self._release(session, state, result)
        return result

    def _mangled(self, session: Session, req: AuthRequest, state: RequestState) -> tuple[AuthRequest, RequestState]:
        """Authentication policy ``mangle`` (core/auth/mangle.py): the rewritten request,
        checked like the original, and for another user or realm that user's state."""
        changed = mangled(req, state.settings.mangle)
        if changed is req:
            return req, state
        validate_request(changed)
        if (changed.user, changed.realm) != (req.user, req.realm):
            state = self._state(session, changed)
        return changed, state

    @staticmethod
    def _cacheable(req: AuthRequest, state: RequestState) -> bool:
        """Authentication policy ``auth_cache`` holds for user logins with a password (not
        serial checks, not answers to a challenge)."""
        user = state.user
        return bool(state.settings.auth_cache and user is not None and user.exists and req.password
                    and not req.serial and not req.transaction_id)

    def _cache_hit(self, session: Session, req: AuthRequest, state: RequestState) -> AuthResult | None:
        assert state.user is not None and state.settings.auth_cache is not None
        if not cache.hit(session, self.hasher, state.settings.auth_cache, state.user, req.password, state.now):
            return None
        return AuthResult(Outcome.ACCEPT, cache.MESSAGE, user=state.user, decided_by=list(state.settings.policy_names))

    def trigger(self, session: Session, req: AuthRequest) -> AuthResult:
        """``/validate/triggerchallenge`` (an admin's call, in the caller's transaction): a
        challenge for each active challenge-response token of the user, or of ``serial``,
        whether or not the challenge_response policy names its type. ``token_type`` narrows
        the user's tokens."""
        validate_request(req)
        state = self._state(session, req)
        if req.serial:
            tokens = self._tokens_by_serial(session, state, req.serial)
        else:
            assert state.user is not None
            if not state.user.exists:
                raise UserError("The user can not be found in any resolver in this realm!")
            tokens = [t for t in self._tokens_of(session, state, state.user)
                      if not req.token_type or t.type == req.token_type.lower()]
        capable = [t for t in tokens if not t.row.revoked and (t.challenge_always or t.challenge_by_policy)
                   and t.triggerable(state.settings.challenge_response)]
        if not capable:
            return AuthResult(Outcome.REJECT, "No active challenge response token found", user=state.user)
        return self._issue_challenges(session, state, capable)

    # ---- a login that names its token instead of its user (core/auth/passkey_login.py) ------

    def state_for(self, session: Session, user: User, client: str) -> RequestState:
        """The request state of ``user`` from ``client``: their policies, the system settings."""
        return self._state(session, AuthRequest(password="", user=user.login, realm=user.realm, client=client))

    def verdict(self, session: Session, state: RequestState, token: TokenClass) -> Verdict:
        """Whether ``token`` may log in now (its state, auth_max_*, last_auth)."""
        return self._verdict(session, state, token)

    def authorize(self, session: Session, state: RequestState, token: TokenClass, result: AuthResult) -> AuthResult:
        """``token`` proved possession: the authorization policies may still refuse
        (``result.refusal``), and decide what the edges may release."""
        state.accepted = [token]
        result.refusal = self._authorization_refusal(state, result)
        self._release(session, state, result)
        return result

    def _decide(self, session: Session, req: AuthRequest, state: RequestState) -> AuthResult:
        if req.serial:
            tokens = self._tokens_by_serial(session, state, req.serial)
        else:
            assert state.user is not None
            # Asked for an unknown user too: the same query whether the name exists or not.
            tokens = self._tokens_of(session, state, state.user)
            if not state.user.exists:
                return self._unknown_user(req, state)
            if not req.transaction_id:
                tokens = [t for t in tokens if not enroll_at_login.is_waiting(t)]
            if req.token_type and state.settings.application_tokentype:
                tokens = [t for t in tokens if t.type == req.token_type.lower()]
            if not tokens:
                return self._no_tokens(session, req, state)
        result = self._walk(session, req, state, tokens)
        if result.outcome is Outcome.REJECT:
            result.message = self._limit_denial(session, state, Outcome.REJECT) or result.message
        return result

    # ---- steps after a granted login -----------------------------------------------------------

    def _next_step(self, session: Session, req: AuthRequest, state: RequestState, result: AuthResult) -> AuthResult:
        """A granted login names its token's next_pin_change; a due change is made now
        with change_pin_via_validate (core.auth.pinchange); else a user without a token of
        the type of enroll_via_multichallenge enrolls one (core.auth.enroll_at_login)."""
        if len(state.accepted) == 1:
            token = state.accepted[0]
            result.next_pin_change = token.info(NEXT_PIN_CHANGE)
            result.pin_change = None if result.next_pin_change is None else token.pin_change_due(state.now)
            if result.pin_change and state.settings.change_pin_via_validate:
                return self._challenge(session, state, challenges.new_transaction_id(),
                                       [(token, pinchange.first())], counted=False)
        kind = state.settings.enroll_via_multichallenge
        if kind in enroll_at_login.TYPES and state.user is not None and state.user.exists:
            return self._enroll(session, req, state, result, kind)
        return result

    def _enroll(self, session: Session, req: AuthRequest, state: RequestState, result: AuthResult,
                kind: str) -> AuthResult:
        user = state.user
        assert user is not None
        owned = [t for t in self._tokens_of(session, state, user) if t.type == kind]
        if any(not enroll_at_login.is_waiting(t) for t in owned):
            return result
        for waiting in owned:  # an enrollment left unanswered: replaced
            self.services.tokens.delete(session, waiting.serial)
        try:
            token, detail = enroll_at_login.enroll(session, self.services, self.policies.user_rights(
                session, user, req.client), kind, user)
        except PolicyDenied as exc:
            log.info("no %s token enrolled at the login of %s: %s", kind, user, exc)
            return result
        challenged = self._challenge(session, state, challenges.new_transaction_id(),
                                     [(token, enroll_at_login.challenge())], counted=False)
        url = detail["googleurl"]
        challenged.challenges = [dataclasses.replace(c, image=url.get("img"), enrollment_url=url["value"])
                                 for c in challenged.challenges]
        return challenged

    def _change_pin(self, session: Session, req: AuthRequest, state: RequestState, token: TokenClass,
                    challenge: Challenge) -> AuthResult:
        """An answer to a PIN change challenge: the new PIN (checked against the user's PIN
        rules), then the same again, which sets it."""
        rights = self.policies.user_rights(session, state.user, req.client)
        enrollment = Enrollment(session, self.services, rights)
        if not challenge.data:
            enrollment.check_pin(req.password, token.type, None)
            if not challenges.advance(session, challenge):
                return self._described(AuthResult(Outcome.REJECT, "Response did not match the challenge.",
                                                  user=state.user), [token])
            return self._challenge(session, state, challenge.transaction_id,
                                   [(token, pinchange.again(self.hasher.hash(req.password)))],
                                   step=challenges.step(challenge) + 1, counted=False)
        matched = self.hasher.verify(challenge.data, req.password)
        if not challenges.finish(session, challenge.transaction_id) or not matched:
            message = pinchange.MISMATCH if not matched else "Response did not match the challenge."
            return self._described(AuthResult(Outcome.REJECT, message, user=state.user), [token])
        stored = self.services.tokens.get(session, token.serial)
        stored.set_pin(req.password, encrypt=stored.row.pin_enc is not None)
        owner = Target.of_user(state.user) if state.user is not None else None
        stored.set_pin_change_every(rights.value("change_pin_every", None, owner, scope=ENROLL), state.now)
        state.accepted = [stored]
        return self._described(AuthResult(Outcome.ACCEPT, pinchange.DONE, user=state.user), [token])

    # ---- authorization after the check -------------------------------------------------------

    @staticmethod
    def _authorization_refusal(state: RequestState, result: AuthResult) -> TesseraError | None:
        """The authorization policies that may refuse a right value (already used up), in
        privacyIDEA's order: serial, tokentype, tokeninfo, the WebAuthn authenticator models,
        then authorized."""
        settings = state.settings
        if settings.serial_pattern and result.serial and not re.search(settings.serial_pattern, result.serial):
            return PolicyError("Serial is not allowed for authentication!")
        if settings.token_types is not None and result.token_type and result.token_type not in settings.token_types:
            return PolicyError("Tokentype not allowed for authentication!")
        if settings.tokeninfo_rule:
            key, pattern = settings.tokeninfo_rule
            for token in state.accepted:
                value = token.info(key) or ""
                if not re.search(pattern, value):
                    return PolicyError(f"Tokeninfo field {key} with contents {value} does not match {pattern}")
        if settings.webauthn_aaguids is not None and any(
                (t.info("aaguid") or "").lower() not in settings.webauthn_aaguids
                for t in state.accepted if t.answers_assertions):
            return PolicyError("The WebAuthn token is not allowed to authenticate due to a policy restriction.")
        if settings.webauthn_req and any(
                not attestation_matches(t.info_dict(), settings.webauthn_req)
                for t in state.accepted if t.answers_assertions):
            return PolicyError("The WebAuthn token is not allowed to authenticate due to a policy restriction.")
        if not settings.authorized:
            return NotAuthorized("User is not authorized to authenticate under these conditions.")
        return None

    def _release(self, session: Session, state: RequestState, result: AuthResult) -> None:
        """What the policies let the edges release (see AuthResult): the user's attributes
        are read once, only for a granted request whose user may show them."""
        settings, user = state.settings, result.user
        if result.accepted and result.refusal is None and user is not None and user.exists:
            if settings.add_user_in_response:
                result.user_attributes = dict(self.directory.user_info(session, user))
            result.release_resolver = settings.add_resolver_in_response
        result.no_detail_on_success = settings.no_detail_on_success
        result.no_detail_on_fail = settings.no_detail_on_fail

    def _state(self, session: Session, req: AuthRequest, *, as_given: bool = False) -> RequestState:
        """``as_given``: the user named as in the request without looking it up (for the
        mangle policies of a name or realm the directory does not know)."""
        if as_given:
            user: User | None = User(req.user or "", (req.realm or "").lower())
        else:
            user = self.directory.resolve(session, req.user, req.realm) if req.user else None
            if user is not None:
                user = self.policies.set_realm(session, user, req.client)
        settings = self.policies.for_request(session, user, req.client)
        snapshot = self.sysconfig.snapshot(session)
        env = TokenEnv(self.security, self.hasher, self.clock, snapshot.settings, snapshot.extra,
                       realm_tokens=RealmConfirmations(self, session, req.client))
        return RequestState(utc_datetime(self.clock), settings, snapshot.settings, env, user)

    # ---- token loading ---------------------------------------------------------------------

    @staticmethod
    def _sorted(tokens: list[TokenClass]) -> list[TokenClass]:
        """OTP tokens first, out-of-band and slow types last (spec: push weight)."""
        return sorted(tokens, key=lambda t: (t.sort_last, t.type[0], t.serial))

    def _tokens_of(self, session: Session, state: RequestState, user: User) -> list[TokenClass]:
        records: dict[int, tuple[TokenRecord, list[Any]]] = {}
        for found in _TOKENS_OF_USER.execute(session, owner_params(user)):
            if found.id not in records:
                # the row carries the token columns first, then its info columns
                records[found.id] = (TokenRecord(session, dict(zip(_TOKEN_COLUMNS, found, strict=False))), [])
            if found.key is not None:
                records[found.id][1].append(found)
        return self._sorted([token_class(record.tokentype)(record, state.env, items)
                             for record, items in records.values()])

    def _tokens_by_serial(self, session: Session, state: RequestState, serial: str) -> list[TokenClass]:
        row = session.scalar(select(Token).where(Token.serial == serial).options(
            selectinload(Token.info), selectinload(Token.owners).selectinload(TokenOwner.realm)))
        if row is None:
            raise TokenNotFound(f"The token with serial {serial} does not exist")
        user = state.user
        if user is not None and not owns(row.owners, user):
            raise ParameterError("Given serial does not belong to given user!")
        return [token_class(row.tokentype)(row, state.env)]

    # ---- users without tokens -------------------------------------------------------------

    def _unknown_user(self, req: AuthRequest, state: RequestState) -> AuthResult:
        if state.settings.pass_on_no_user:
            return AuthResult(Outcome.ACCEPT, "user does not exist, accepted due to 'passOnNoUser'",
                              user=state.user, decided_by=list(state.settings.policy_names))
        self._decoy(req.password)
        raise UserError("The user can not be found in any resolver in this realm!")

    def _no_tokens(self, session: Session, req: AuthRequest, state: RequestState) -> AuthResult:
        settings = state.settings
        if settings.pass_on_no_token:
            return AuthResult(Outcome.ACCEPT, "user has no token, accepted due to 'passOnNoToken'",
                              user=state.user, decided_by=list(settings.policy_names))
        assert state.user is not None
        refused = AuthResult(Outcome.REJECT, "The user has no tokens assigned", user=state.user)
        if settings.passthru:
            if settings.passthru_server:
                ok = radius_client.authenticate(
                    radius_servers.upstream(session, self.security, settings.passthru_server),
                    state.user.login, req.password)
                against = f"RADIUS server {settings.passthru_server}"
            else:
                ok, against = self.directory.check_password(session, state.user, req.password), "userstore"
            outcome = Outcome.ACCEPT if ok else Outcome.REJECT
            denial = self._limit_denial(session, state, outcome)
            refused = AuthResult(Outcome.REJECT if denial else outcome,
                                 denial or f"against {against} due to 'passthru'",
                                 user=state.user, decided_by=list(settings.policy_names))
            if refused.accepted and settings.passthru_server and settings.passthru_assign:
                self._passthru_assign(session, req, state, refused)
            if refused.accepted:
                return refused
        if settings.autoassignment:
            token = autoassign(session, TokenService(self.security, self.hasher, self.clock, self.sysconfig),
                               settings.autoassignment, state.user, req.password, state.success,
                               lambda pin: self._userstore_ok(session, state, pin))
            if token is not None:
                state.accepted.append(token)
                return AuthResult(Outcome.ACCEPT, ASSIGNED_MESSAGE, user=state.user, serial=token.serial,
                                  token_type=token.type, otplen=token.row.otplen,
                                  decided_by=list(settings.policy_names))
        elif not settings.passthru:
            self._decoy(req.password)
        return refused

    def _passthru_assign(self, session: Session, req: AuthRequest, state: RequestState, result: AuthResult) -> None:
        """passthru_assign: the pool token whose OTP the accepted password holds becomes the user's."""
        assert state.user is not None and state.settings.passthru_assign
        token = passthru_assign(session, self.services.tokens, state.settings.passthru_assign, state.user,
                                req.password, state.success)
        if token is not None:
            state.accepted.append(token)
            result.serial, result.token_type, result.otplen = token.serial, token.type, token.row.otplen
            result.message += f", token {token.serial} assigned due to 'passthru_assign'"

    @staticmethod
    def _decoy(password: str) -> None:
        """Spend what refusing a wrong OTP of a real token costs (an OTP window: the PIN
        is not checked then) before refusing a user without tokens, so that the response
        time does not tell which names exist. (The token query ran already, found or not.)"""
        oath.find_counter(_DECOY_KEY, password[-6:], 0, 10, 6, "sha1")

    # ---- the walk ------------------------------------------------------------------------

    def _walk(self, session: Session, req: AuthRequest, state: RequestState,
              tokens: list[TokenClass]) -> AuthResult:
        tokens = [t for t in tokens if not t.row.revoked]
        if not tokens:
            raise TokenError("This action is not possible, since the token is locked")
        walk = Walk()
        if req.transaction_id:
            live = challenges.live(session, req.transaction_id, state.now)
            for token in tokens:
                found = live.get(token.serial)
                if found is not None and pinchange.is_pin_change(found):
                    return self._change_pin(session, req, state, token, found)
            self._classify_answers(session, req, state, tokens, walk, live)
        else:
            for token in tokens:
                self._classify(session, req, state, token, walk)
        if walk.valid:
            return self._accept(session, state, walk.valid, tokens)
        if walk.answered or walk.unanswered:
            return self._answer(session, req, state, walk, tokens)
        if walk.challenge_requested:
            offered = [t for t in walk.challenge_requested if req.carries_assertions or not t.answers_assertions]
            if not offered:
                return self._described(AuthResult(
                    Outcome.REJECT, f"WebAuthn tokens cannot be used over {req.protocol.upper()}: "
                    "they need a browser or a privacyIDEA-compatible HTTP client", user=state.user),
                    walk.challenge_requested)
            return self._issue_challenges(session, state, offered)
        if walk.resync_requested:
            timeout = state.system.AutoResyncTimeout
            return self._challenge(session, state, challenges.new_transaction_id(),
                                   [(t, resync.challenge(found, timeout)) for t, found in walk.resync_requested])
        if walk.pin_matching:
            return self._pin_matching(session, state, walk.pin_matching)
        if walk.unchecked:
            return self._wrong_otp(session, state, walk.unchecked, walk.invalid)
        return self._wrong_pin(session, state, walk.invalid)

    def _pin_costly(self, state: RequestState, token: TokenClass) -> bool:
        """Whether checking the PIN costs a hash or a user-store call (see the module doc)."""
        mode = state.settings.otppin
        return mode == "userstore" or (mode != "none" and token.pin_hashed)

    def pin_ok(self, session: Session, state: RequestState, token: TokenClass, pin: str) -> bool:
        """Whether ``pin`` is the fixed part as the ``otppin`` policy of ``state`` says."""
        mode = state.settings.otppin
        if mode == "none":
            return True
        if mode == "userstore":
            return self._userstore_ok(session, state, pin)
        return token.check_pin(pin)

    def _userstore_ok(self, session: Session, state: RequestState, pin: str) -> bool:
        if pin not in state.userstore:
            user = state.user
            state.userstore[pin] = bool(user and user.exists and self.directory.check_password(session, user, pin))
        return state.userstore[pin]

    def _classify(self, session: Session, req: AuthRequest, state: RequestState, token: TokenClass,
                  walk: Walk) -> None:
        if token.confirmed_by_others:
            self._classify_confirmed(session, req, state, token, walk)
            return
        if (not req.otp_only and token.is_challenge_request(state.settings.challenge_response)
                and self.pin_ok(session, state, token, req.password)):
            walk.challenge_requested.append(token)
            return
        if req.otp_only:
            pin, otp = "", req.password
        else:
            pin, otp = token.split_pin(req.password)
        matched = token.check_otp(otp)
        if (matched < 0 and not req.otp_only and self._pin_costly(state, token)
                and not (state.system.AutoResync and token.sync_counter(otp) >= 0)):
            walk.unchecked.append((token, token.previously_used(otp)))
            return
        if not req.otp_only and not self.pin_ok(session, state, token, pin):
            walk.invalid.append(token)
            return
        if matched < 0 and state.system.AutoResync:
            if state.settings.resync_via_multichallenge:
                found = token.sync_counter(otp)
                if found >= 0 and token.row.active:
                    walk.resync_requested.append((token, found))
                    return
            else:
                matched = resync.auto_resync(session, token, otp, state.now, state.system.AutoResyncTimeout)
        if matched < 0:
            walk.pin_matching.append((token, token.previously_used(otp)))
            return
        verdict = self._verdict(session, state, token)
        if token.consume(session, matched, state.success if verdict.ok else None):
            walk.valid.append((token, verdict))
        else:
            walk.pin_matching.append((token, True))  # used by a concurrent request, or a replay

    def _classify_confirmed(self, session: Session, req: AuthRequest, state: RequestState, token: TokenClass,
                            walk: Walk) -> None:
        """A 4eyes token: its own PIN asks for the first confirmation (with otppin=none only
        an empty ``pass`` does); else the values in ``pass`` confirm it, all at once, or a
        first one that starts the challenges for the others."""
        if (not req.otp_only and (req.password == "" or state.settings.otppin != "none")
                and self.pin_ok(session, state, token, req.password)):
            walk.challenge_requested.append(token)
            return
        confirmed = token.confirm_password(req.password)
        if confirmed is Confirmed.SOME:
            walk.challenge_requested.append(token)
        elif confirmed is Confirmed.NONE:
            walk.pin_matching.append((token, False))
        else:
            verdict = self._verdict(session, state, token)
            token.consume(session, 0, state.success if verdict.ok else None)
            walk.valid.append((token, verdict))

    @staticmethod
    def _classify_answers(session: Session, req: AuthRequest, state: RequestState, tokens: list[TokenClass],
                          walk: Walk, open_challenges: dict[str, Challenge]) -> None:
        for token in tokens:
            challenge = open_challenges.get(token.serial)
            if challenge is None:
                walk.invalid.append(token)
                continue
            challenges.count_attempt(session, challenge.id)
            try:
                if resync.is_resync(challenge):
                    matched = resync.answer(token, req.password, challenge)
                elif token.answers_assertions:
                    matched = token.check_assertion(req.webauthn, challenge.data)
                else:
                    matched = token.check_challenge(req.password, challenge)
                consumed = matched >= 0 and token.consume(session, matched)
            except WebAuthnRefused as refused:
                walk.refusals.append(f"{token.serial}: {refused}")
                consumed = False
            if consumed:
                walk.answered.append((token, challenge))
            else:
                walk.unanswered.append(token)

    # ---- may a matching token log in? --------------------------------------------------------

    @staticmethod
    def _lock_expired(state: RequestState, row: Token | TokenRecord) -> bool:
        timeout = state.system.failcounter_clear_timeout
        return bool(row.failcount >= row.maxfail and timeout and row.failcount_exceeded_at is not None
                    and state.now >= row.failcount_exceeded_at + timedelta(minutes=timeout))

    def _verdict(self, session: Session, state: RequestState, token: TokenClass) -> Verdict:
        lock_expired = self._lock_expired(state, token.row)
        problem = token.validity_problem(state.now, lock_expired=lock_expired)
        if problem:
            return Verdict(problem=problem, lock_expired=lock_expired)
        denial = self._limit_denial(session, state, Outcome.ACCEPT) or self._last_auth_denial(state, token.row)
        return Verdict(denial=denial, lock_expired=lock_expired)

    @staticmethod
    def _last_auth_denial(state: RequestState, row: Token | TokenRecord) -> str | None:
        """Authorization policy ``last_auth``: a token unused for too long is refused (one
        never used is not). A refused login does not count as use."""
        limit, last = state.settings.last_auth, row.last_auth_at
        if limit is None or last is None or state.now <= last + limit:
            return None
        return f"The last successful authentication was {last.isoformat()}. It is to long ago."

    @staticmethod
    def _limit_denial(session: Session, state: RequestState, outcome: Outcome) -> str | None:
        """Authorization policies ``auth_max_fail`` (whatever the outcome) and, for an
        acceptance, ``auth_max_success``: the message that replaces the outcome, or None."""
        fail, success = state.settings.auth_max_fail, state.settings.auth_max_success
        if fail is not None and _reached(session, state, fail, Outcome.REJECT):
            return f"Only {fail.count} failed authentications per {fail.period}"
        if outcome is Outcome.ACCEPT and success is not None and _reached(session, state, success, Outcome.ACCEPT):
            return f"Only {success.count} successful authentications per {success.period}"
        return None

    # ---- outcomes --------------------------------------------------------------------------

    @staticmethod
    def _refuse(session: Session, token: TokenClass, verdict: Verdict) -> None:
        """A token matched but may not log in: count the attempt (a right value after the
        clear timeout still clears the fail counter lock)."""
        if verdict.lock_expired:
            counters.reset_failcount(session, [token.row.id])
        counters.record_attempt(session, [token.row.id])

    def _after_success(self, session: Session, state: RequestState, accepted: list[TokenClass],
                       tokens: list[TokenClass]) -> None:
        state.accepted = accepted
        for token in accepted:
            token.post_success(session)
            # emailautosend: the next value goes out now, for a PIN+OTP login without a challenge.
            notice = token.next_notice(state.settings.challenge_options) if token.type in state.settings.autosend \
                else None
            if notice is not None:
                self._notify(session, state, token, notice, "", None)
        if state.settings.reset_all_user_tokens:
            counters.reset_failcount(session, [t.row.id for t in tokens if t not in accepted])

    def _accept(self, session: Session, state: RequestState, valid: list[tuple[TokenClass, Verdict]],
                tokens: list[TokenClass]) -> AuthResult:
        accepted, problems, denials = [], [], []
        for token, verdict in valid:
            if verdict.ok:  # consume() has recorded the success
                accepted.append(token)
            else:
                self._refuse(session, token, verdict)
                if verdict.denial:
                    denials.append(verdict.denial)
                elif verdict.problem:
                    problems.append(verdict.problem)
        self._after_success(session, state, accepted, tokens)
        if accepted or not denials:
            message = ", ".join([f"matching {len(valid)} tokens", *problems])
        else:
            message = ", ".join(dict.fromkeys(denials))
        result = AuthResult(Outcome.ACCEPT if accepted else Outcome.REJECT, message, user=state.user)
        return self._described(result, [t for t, _ in valid])

    def _answer(self, session: Session, req: AuthRequest, state: RequestState, walk: Walk,
                tokens: list[TokenClass]) -> AuthResult:
        transaction_id = req.transaction_id
        assert transaction_id is not None
        for token, challenge in walk.answered:
            if enroll_at_login.is_enrollment(challenge):
                enroll_at_login.complete(session, token)
            verdict = self._verdict(session, state, token)
            if not verdict.ok:
                self._refuse(session, token, verdict)
                return self._described(AuthResult(Outcome.REJECT, verdict.denial or verdict.problem or "",
                                                  user=state.user), [token])
            further = (None if resync.is_resync(challenge)
                       else token.next_challenge(challenge.data, state.settings.challenge_options))
            if further is not None:
                if not challenges.advance(session, challenge):
                    break  # another request answered this step first
                return self._challenge(session, state, transaction_id, [(token, further)],
                                       step=challenges.step(challenge) + 1)
            if not challenges.finish(session, transaction_id):
                break  # another request answered this transaction first
            counters.record_success(session, token.row.id, state.now, count_auth=state.count_auth)
            self._after_success(session, state, [token], tokens)
            return self._described(AuthResult(Outcome.ACCEPT, "Found matching challenge", user=state.user),
                                   [token])
        failed = [t for t, _ in walk.answered] + walk.unanswered
        counters.record_failure(session, [t.row.id for t in failed], state.now,
                                count_auth=state.count_auth)
        message = ("Response did not match the challenge." if len(failed) == 1
                   else f"Response did not match for {len(failed)} tokens.")
        if walk.refusals:
            message = f"{message} {'; '.join(walk.refusals)}"
        return self._described(AuthResult(Outcome.REJECT, message, user=state.user), failed)

    def _issue_challenges(self, session: Session, state: RequestState, tokens: list[TokenClass]) -> AuthResult:
        active = [t for t in tokens if t.row.active and not t.row.locked]
        if not active:
            return AuthResult(Outcome.REJECT, "No active challenge response token found", user=state.user)
        denial = self._limit_denial(session, state, Outcome.CHALLENGE)
        if denial:
            return AuthResult(Outcome.REJECT, denial, user=state.user)
        expired = [t.row.id for t in active if self._lock_expired(state, t.row)]
        if expired:
            counters.reset_failcount(session, expired)  # the spec: a triggered challenge clears it too
        options = state.settings.challenge_options
        return self._challenge(session, state, challenges.new_transaction_id(),
                               [(t, t.create_challenge(options)) for t in active])

    def _challenge(self, session: Session, state: RequestState, transaction_id: str,
                   specs: list[tuple[TokenClass, ChallengeSpec]], *, step: int = 0,
                   counted: bool = True) -> AuthResult:
        """Store the challenges under one transaction id and describe them; ``counted``: as
        an authentication attempt of the tokens (not the steps after a granted login)."""
        issued = []
        for token, spec in specs:
            row = challenges.create(session, transaction_id, token.serial, spec, state.now,
                                    challenge_validity(state.system, state.env.extra, token.type), step=step)
            message = spec.message
            if spec.notice is not None and not self._notify(session, state, token, spec.notice, transaction_id,
                                                             row.expires_at):
                message = spec.notice.failure
            issued.append(IssuedChallenge(token.serial, transaction_id, message, token.type,
                                          row.expires_at, token.client_mode, spec.attributes))
        ids = [t.row.id for t, _ in specs]
        if counted and state.settings.increase_failcounter_on_challenge:
            counters.record_failure(session, ids, state.now, count_auth=True)
        elif counted:
            counters.record_attempt(session, ids)
        settings = state.settings
        message = challenge_message([c.message for c in issued], settings.challenge_text_header,
                                    settings.challenge_text_footer)
        result = AuthResult(Outcome.CHALLENGE, message, user=state.user, challenges=issued,
                            preferred_client_mode=preferred_client_mode([c.client_mode for c in issued],
                                                                        settings.preferred_client_mode))
        return self._described(result, [t for t, _ in specs])

    def _notify(self, session: Session, state: RequestState, token: TokenClass, notice: Notice,
                transaction_id: str, expires_at: datetime | None) -> bool:
        """Queue the message (of the challenge ``transaction_id``) in the request's transaction;
        False when it cannot be sent (no outbox, no address, or the last attempt on its channel failed)."""
        if self.outbox is None:
            return False
        if notice.literal:  # nothing of the owner goes in: no user store lookup
            recipient, payload = notice.recipient or "", dict(notice.templates)
        else:
            user = state.user
            info = self.directory.user_info(session, user) if user is not None else {}
            recipient = notice.recipient or str(info.get(notice.recipient_attribute) or "")
            tags = {**owner_tags(info, user.realm if user else "", state.now), **notice.tags}
            payload = {key: render(text, tags) for key, text in notice.templates.items()}
        if not recipient:
            return False
        self.outbox.enqueue(session, notice.channel, recipient, payload,
                            serial=token.serial, transaction_id=transaction_id, expires_at=expires_at)
        return not self.outbox.failing(session, notice.channel,
                                       recipient if notice.failing_per_recipient else None)

    def _pin_matching(self, session: Session, state: RequestState,
                      tokens: list[tuple[TokenClass, bool]]) -> AuthResult:
        counters.record_failure(session, [t.row.id for t, _ in tokens], state.now,
                                count_auth=state.count_auth)
        message = "wrong otp value"
        if any(replayed for _, replayed in tokens):
            message += ". previous otp used again"
        return self._described(AuthResult(Outcome.REJECT, message, user=state.user), [t for t, _ in tokens])

    def _wrong_otp(self, session: Session, state: RequestState, unchecked: list[tuple[TokenClass, bool]],
                   invalid: list[TokenClass]) -> AuthResult:
        """No PIN matched as far as checked, and some OTPs were wrong before their costly
        PIN: every token tried counts a failure (whatever IncFailCountOnFalsePin says, as
        the PIN may have been right), those with a wrong cheap PIN as the setting says."""
        failed = [t for t, _ in unchecked]
        counted = failed + (invalid if state.system.IncFailCountOnFalsePin else [])
        counters.record_failure(session, [t.row.id for t in counted], state.now, count_auth=state.count_auth)
        message = "wrong otp pin or otp value"
        if any(replayed for _, replayed in unchecked):
            message += ". previous otp used again"
        return self._described(AuthResult(Outcome.REJECT, message, user=state.user), failed + invalid)

    def _wrong_pin(self, session: Session, state: RequestState, tokens: list[TokenClass]) -> AuthResult:
        if state.system.IncFailCountOnFalsePin:
            counters.record_failure(session, [t.row.id for t in tokens], state.now,
                                    count_auth=state.count_auth)
        return self._described(AuthResult(Outcome.REJECT, "wrong otp pin", user=state.user), tokens)

    @staticmethod
    def _described(result: AuthResult, tokens: list[TokenClass]) -> AuthResult:
        """Name the token in the result when exactly one was involved (the spec's detail)."""
        if len(tokens) == 1:
            result.serial, result.token_type, result.otplen = (tokens[0].serial, tokens[0].type,
                                                               tokens[0].row.otplen)
            if tokens[0].reply:
                result.reply = dict(tokens[0].reply)
        elif tokens:
            types = {t.type for t in tokens}
            result.token_type = types.pop() if len(types) == 1 else "undetermined"
        return result


def _reached(session: Session, state: RequestState, limit: RateLimit, counted: Outcome) -> bool:
    """Whether the request's user reached ``limit`` of ``counted`` outcomes (asked once)."""
    if state.user is None:
        return False
    if counted not in state.limits:
        state.limits[counted] = limit.reached(session, state.user, counted.value, state.now)
    return state.limits[counted]
