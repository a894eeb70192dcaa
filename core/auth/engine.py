"""The authentication engine: the spec's ``/validate/check`` token walk, in one place.

For each of the user's tokens the engine classifies the request as an answer to a
challenge, a request for a challenge, or a PIN+OTP attempt, and decides with the spec's
precedence: valid > challenge answered > challenge requested > right PIN (wrong OTP) >
wrong PIN. Every counter change is one atomic UPDATE, so a value is accepted at most once
and fail counters add up across processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tesserad.core.auth import challenges, counters
from tesserad.core.auth.policy import AuthPolicies, AuthSettings
from tesserad.core.auth.request import (MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, AuthRequest, AuthResult,
                                        IssuedChallenge, Outcome)
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.security.base import SecurityModule
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Token, TokenOwner
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.tokens.base import ParameterError, TokenClass, TokenEnv, TokenError, TokenNotFound
from tesserad.core.tokens.registry import token_class
from tesserad.core.users.base import User, UserError
from tesserad.core.users.directory import Directory

# The hot path's one query: a user's tokens with their info, built once.
_TOKENS_OF_USER = (select(Token).join(TokenOwner)
                   .where(TokenOwner.resolver == bindparam("resolver"), TokenOwner.user_id == bindparam("uid"))
                   .options(joinedload(Token.info)))
# Out-of-band and slow types go last so that OTP tokens are tried first (spec: push weight).
TYPE_WEIGHT = {"push": 1000}


@dataclass
class Walk:
    """The tokens of one request, sorted into the spec's classes."""

    valid: list[tuple[TokenClass, int]] = field(default_factory=list)
    answered: list[tuple[TokenClass, int]] = field(default_factory=list)
    unanswered: list[TokenClass] = field(default_factory=list)
    challenge_requested: list[TokenClass] = field(default_factory=list)
    pin_matching: list[tuple[TokenClass, bool]] = field(default_factory=list)
    invalid: list[TokenClass] = field(default_factory=list)


@dataclass
class RequestState:
    """Per-request facts the walk needs, computed once."""

    now: datetime
    settings: AuthSettings
    user: User | None
    # User-store password checks by candidate PIN: a bind or hash costs, do it once.
    userstore: dict[str, bool] = field(default_factory=dict)


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


class Engine:
    def __init__(self, *, security: SecurityModule, hasher: SecretHasher, clock: Clock,
                 directory: Directory, sysconfig: SystemConfig, policies: AuthPolicies):
        self.security = security
        self.hasher = hasher
        self.clock = clock
        self.directory = directory
        self.sysconfig = sysconfig
        self.policies = policies

    # ---- entry point ---------------------------------------------------------------------

    def check(self, session: Session, req: AuthRequest) -> AuthResult:
        """Decide one request inside the caller's transaction (the caller commits)."""
        validate_request(req)
        now = utc_datetime(self.clock)
        user = self._user(session, req)
        settings = self.policies.for_request(session, user, req.client)
        state = RequestState(now, settings, user)
        if req.serial:
            tokens = self._tokens_by_serial(session, req.serial, user)
        else:
            assert user is not None
            if not user.exists:
                return self._unknown_user(state)
            tokens = self._tokens_of(session, user)
            if not tokens:
                return self._no_tokens(session, req, state)
        return self._walk(session, req, state, tokens)

    def _user(self, session: Session, req: AuthRequest) -> User | None:
        if not req.user:
            return None
        return self.directory.resolve(session, req.user, req.realm)

    # ---- token loading ---------------------------------------------------------------------

    def _env(self, session: Session) -> TokenEnv:
        snapshot = self.sysconfig.snapshot(session)
        return TokenEnv(self.security, self.hasher, self.clock, snapshot.settings, snapshot.extra)

    def _wrap(self, session: Session, rows: list[Token]) -> list[TokenClass]:
        env = self._env(session)
        wrapped = [token_class(row.tokentype)(row, env) for row in rows]
        return sorted(wrapped, key=lambda t: (TYPE_WEIGHT.get(t.type, ord(t.type[0])), t.serial))

    def _tokens_of(self, session: Session, user: User) -> list[TokenClass]:
        rows = session.scalars(_TOKENS_OF_USER, {"resolver": user.resolver, "uid": user.uid}).unique().all()
        return self._wrap(session, list(rows))

    def _tokens_by_serial(self, session: Session, serial: str, user: User | None) -> list[TokenClass]:
        row = session.scalar(select(Token).where(Token.serial == serial).options(
            selectinload(Token.info), selectinload(Token.owners)))
        if row is None:
            raise TokenNotFound(f"The token with serial {serial} does not exist")
        if user is not None and not any(o.resolver == user.resolver and o.user_id == user.uid
                                        for o in row.owners):
            raise ParameterError("Given serial does not belong to given user!")
        return self._wrap(session, [row])

    # ---- users without tokens -------------------------------------------------------------

    def _unknown_user(self, state: RequestState) -> AuthResult:
        if state.settings.pass_on_no_user:
            return AuthResult(Outcome.ACCEPT, "user does not exist, accepted due to 'passOnNoUser'",
                              user=state.user, decided_by=list(state.settings.policy_names))
        raise UserError("The user can not be found in any resolver in this realm!")

    def _no_tokens(self, session: Session, req: AuthRequest, state: RequestState) -> AuthResult:
        settings = state.settings
        if settings.pass_on_no_token:
            return AuthResult(Outcome.ACCEPT, "user has no token, accepted due to 'passOnNoToken'",
                              user=state.user, decided_by=list(settings.policy_names))
        if settings.passthru:
            assert state.user is not None
            ok = self.directory.check_password(session, state.user, req.password)
            return AuthResult(Outcome.ACCEPT if ok else Outcome.REJECT,
                              "against userstore due to 'passthru'", user=state.user,
                              decided_by=list(settings.policy_names))
        return AuthResult(Outcome.REJECT, "The user has no tokens assigned", user=state.user)

    # ---- the walk ------------------------------------------------------------------------

    def _walk(self, session: Session, req: AuthRequest, state: RequestState,
              tokens: list[TokenClass]) -> AuthResult:
        tokens = [t for t in tokens if not t.row.revoked]
        if not tokens:
            raise TokenError("This action is not possible, since the token is locked")
        walk = Walk()
        if req.transaction_id:
            self._classify_answers(session, req, state, tokens, walk)
        else:
            for token in tokens:
                self._classify(session, req, state, token, walk)
        if walk.valid:
            return self._accept(session, state, walk.valid)
        if walk.answered or walk.unanswered:
            return self._answer(session, req, state, walk)
        if walk.challenge_requested:
            return self._issue_challenges(session, state, walk.challenge_requested)
        if walk.pin_matching:
            return self._pin_matching(session, state, walk.pin_matching)
        return self._wrong_pin(session, state, walk.invalid)

    def _pin_ok(self, session: Session, state: RequestState, token: TokenClass, pin: str) -> bool:
        mode = state.settings.otppin
        if mode == "none":
            return True
        if mode == "userstore":
            if pin not in state.userstore:
                user = state.user
                state.userstore[pin] = bool(user and user.exists and
                                            self.directory.check_password(session, user, pin))
            return state.userstore[pin]
        return token.check_pin(pin)

    def _classify(self, session: Session, req: AuthRequest, state: RequestState, token: TokenClass,
                  walk: Walk) -> None:
        if (not req.otp_only and token.is_challenge_request(state.settings.challenge_response)
                and self._pin_ok(session, state, token, req.password)):
            walk.challenge_requested.append(token)
            return
        if req.otp_only:
            pin_ok, otp = True, req.password
        else:
            pin, otp = token.split_pin(req.password)
            pin_ok = self._pin_ok(session, state, token, pin)
        if not pin_ok:
            walk.invalid.append(token)
            return
        matched = token.check_otp(otp)
        if matched >= 0 and token.consume(session, matched):
            walk.valid.append((token, matched))
        else:
            walk.pin_matching.append((token, matched >= 0 or token.previously_used(otp)))

    def _classify_answers(self, session: Session, req: AuthRequest, state: RequestState,
                          tokens: list[TokenClass], walk: Walk) -> None:
        assert req.transaction_id is not None
        open_challenges = challenges.live(session, req.transaction_id, state.now)
        for token in tokens:
            challenge = open_challenges.get(token.serial)
            if challenge is None:
                walk.invalid.append(token)
                continue
            challenges.count_attempt(session, challenge.id)
            matched = token.check_challenge_response(req.password, challenge.data)
            if matched >= 0 and token.consume(session, matched):
                walk.answered.append((token, matched))
            else:
                walk.unanswered.append(token)

    # ---- outcomes --------------------------------------------------------------------------

    def _usable(self, session: Session, state: RequestState, token: TokenClass) -> str | None:
        """The reason a token that matched may still not log in, after the clear timeout."""
        row = token.row
        timeout = self.sysconfig.settings(session).failcounter_clear_timeout
        if (row.failcount >= row.maxfail and timeout and row.failcount_exceeded_at is not None
                and state.now >= row.failcount_exceeded_at + timedelta(minutes=timeout)):
            counters.reset_failcount(session, [row.id])
            row.failcount = 0
        return token.validity_problem(state.now)

    def _succeed(self, session: Session, state: RequestState, token: TokenClass) -> None:
        no_counter = self.sysconfig.settings(session).no_auth_counter
        counters.record_success(session, token.row.id, state.now, count_auth=not no_counter)
        token.post_success(session)

    def _accept(self, session: Session, state: RequestState, valid: list[tuple[TokenClass, int]]) -> AuthResult:
        problems = []
        accepted = []
        for token, _ in valid:
            problem = self._usable(session, state, token)
            if problem:
                problems.append(problem)
                counters.record_attempt(session, [token.row.id])
            else:
                self._succeed(session, state, token)
                accepted.append(token)
        message = "matching {} tokens".format(len(valid))
        if problems:
            message = ", ".join([message, *problems])
        result = AuthResult(Outcome.ACCEPT if accepted else Outcome.REJECT, message, user=state.user)
        self._describe(result, [t for t, _ in valid])
        return result

    def _answer(self, session: Session, req: AuthRequest, state: RequestState, walk: Walk) -> AuthResult:
        assert req.transaction_id is not None
        for token, _ in walk.answered:
            problem = self._usable(session, state, token)
            if problem:
                return self._described(AuthResult(Outcome.REJECT, problem, user=state.user), [token])
            if not challenges.finish(session, req.transaction_id):
                break  # another request answered this transaction first
            self._succeed(session, state, token)
            return self._described(AuthResult(Outcome.ACCEPT, "Found matching challenge", user=state.user),
                                   [token])
        failed = [t for t, _ in walk.answered] + walk.unanswered
        counters.record_failure(session, [t.row.id for t in failed], state.now,
                                count_auth=not self.sysconfig.settings(session).no_auth_counter)
        message = ("Response did not match the challenge." if len(failed) == 1
                   else f"Response did not match for {len(failed)} tokens.")
        return self._described(AuthResult(Outcome.REJECT, message, user=state.user), failed)

    def _issue_challenges(self, session: Session, state: RequestState, tokens: list[TokenClass]) -> AuthResult:
        active = [t for t in tokens if t.row.active and not t.row.locked]
        if not active:
            return AuthResult(Outcome.REJECT, "No active challenge response token found", user=state.user)
        for token in active:
            self._usable(session, state, token)
        validity = self.sysconfig.settings(session).DefaultChallengeValidityTime
        transaction_id = challenges.new_transaction_id()
        issued = []
        for token in active:
            spec = token.create_challenge(state.settings.challenge_text)
            challenges.create(session, transaction_id, token.serial, spec, state.now, validity)
            issued.append(IssuedChallenge(token.serial, transaction_id, spec.message, token.type,
                                          token.client_mode, spec.attributes))
        ids = [t.row.id for t in active]
        if state.settings.increase_failcounter_on_challenge:
            counters.record_failure(session, ids, state.now, count_auth=True)
        else:
            counters.record_attempt(session, ids)
        message = ", ".join(dict.fromkeys(c.message for c in issued))
        result = AuthResult(Outcome.CHALLENGE, message, user=state.user, challenges=issued)
        return self._described(result, active)

    def _pin_matching(self, session: Session, state: RequestState,
                      tokens: list[tuple[TokenClass, bool]]) -> AuthResult:
        counters.record_failure(session, [t.row.id for t, _ in tokens], state.now,
                                count_auth=not self.sysconfig.settings(session).no_auth_counter)
        message = "wrong otp value"
        if any(replayed for _, replayed in tokens):
            message += ". previous otp used again"
        return self._described(AuthResult(Outcome.REJECT, message, user=state.user), [t for t, _ in tokens])

    def _wrong_pin(self, session: Session, state: RequestState, tokens: list[TokenClass]) -> AuthResult:
        settings = self.sysconfig.settings(session)
        if settings.IncFailCountOnFalsePin:
            counters.record_failure(session, [t.row.id for t in tokens], state.now,
                                    count_auth=not settings.no_auth_counter)
        return self._described(AuthResult(Outcome.REJECT, "wrong otp pin", user=state.user), tokens)

    @staticmethod
    def _describe(result: AuthResult, tokens: list[TokenClass]) -> None:
        """Name the token in the result when exactly one was involved (the spec's detail)."""
        if len(tokens) == 1:
            result.serial, result.token_type, result.otplen = (tokens[0].serial, tokens[0].type,
                                                               tokens[0].row.otplen)
        elif tokens:
            types = {t.type for t in tokens}
            result.token_type = types.pop() if len(types) == 1 else "undetermined"

    def _described(self, result: AuthResult, tokens: list[TokenClass]) -> AuthResult:
        self._describe(result, tokens)
        return result
