"""Usernameless login with a passkey (privacyIDEA 3.11's ``/validate/initialize``).

``initialize`` opens a challenge bound to no token and no user (serial ""); the client asks
the authenticator for any resident credential of the relying party. The answer names only
its credential: ``login`` finds the token by the credential's hash (``token_credential``),
verifies the assertion for the challenge, then, in the same transaction, closes the
challenge (a DELETE that only one answer can win) and moves the signature counter with a
conditional UPDATE (a counter that goes back is a cloned authenticator: refused, audited).
The user is the token's owner, and the usual authorization policies then apply to them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from tesserad.core.auth import challenges
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.clock import utc_datetime
from tesserad.core.policy.actions import ENROLL
from tesserad.core.policy.errors import PolicyError
from tesserad.core.store.models import Challenge, Token, TokenCredential
from tesserad.core.store.prepared import Prepared
from tesserad.core.sysconfig import challenge_validity
from tesserad.core.tokens.base import ChallengeSpec, ParameterError, TokenNotFound
from tesserad.core.tokens.passkey import RP_ID_PARAM, USER_ID, credential_hash, origin_fits
from tesserad.core.tokens.registry import token_class
from tesserad.core.webauthn.assertion import AssertionAnswer, verify_assertion
from tesserad.core.webauthn.credential import StoredCredential
from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode
from tesserad.core.webauthn.errors import WebAuthnRefused

log = logging.getLogger(__name__)

MESSAGE = "Please authenticate with your passkey!"
DEFAULT_USER_VERIFICATION = "preferred"
_UV_PREFIX = "user_verification="
# The counter moves forward only: a value not above the stored one (except an authenticator
# that keeps none and sends 0 forever) is a replay or a clone; the UPDATE then changes nothing.
_COUNTER = Prepared(update(Token).where(
    Token.id == bindparam("token_id"),
    (Token.count < bindparam("presented")) | ((Token.count == 0) & (bindparam("presented") == 0)))
    .values({Token.count: bindparam("presented"), Token.failcount: 0, Token.failcount_exceeded_at: None,
             Token.last_auth_at: bindparam("now"), Token.count_auth: Token.count_auth + 1,
             Token.count_auth_success: Token.count_auth_success + 1}))
# Answer fields: privacyIDEA 3.11's names first, then the webauthn token's.
FIELDS = {"credential_id": ("credential_id", "credentialid", "rawId"),
          "clientdata": ("clientDataJSON", "clientdata"),
          "authenticatordata": ("authenticatorData", "authenticatordata"),
          "signature": ("signature", "signaturedata"),
          "userhandle": ("userHandle", "userhandle")}


@dataclass(frozen=True)
class PasskeyAnswer:
    transaction_id: str
    assertion: AssertionAnswer
    # The page's Origin header.
    origin: str


def is_passkey_answer(params: Mapping[str, Any]) -> bool:
    """A usernameless answer: a credential id and no user or serial to check instead."""
    return any(params.get(name) for name in FIELDS["credential_id"]) and not params.get("user") \
        and not params.get("serial")


def _field(params: Mapping[str, Any], key: str, *, required: bool = True) -> bytes | None:
    for name in FIELDS[key]:
        value = params.get(name)
        if value:
            return b64url_decode(str(value), name)
    if required:
        raise ParameterError(f"missing parameter: {FIELDS[key][0]}")
    return None


def parse_answer(params: Mapping[str, Any], origin: str) -> PasskeyAnswer:
    """The answer's fields, decoded (a malformed one is a ParameterError naming it)."""
    transaction_id = str(params.get("transaction_id") or "")
    if not transaction_id:
        raise ParameterError("missing parameter: transaction_id")
    if not challenges.is_transaction_id(transaction_id):
        raise ParameterError("transaction_id is malformed")
    if not origin:
        raise ParameterError("The Origin header is required to answer a passkey challenge")
    assertion = AssertionAnswer(credential_id=_field(params, "credential_id") or b"",
                                clientdata=_field(params, "clientdata") or b"",
                                authenticatordata=_field(params, "authenticatordata") or b"",
                                signature=_field(params, "signature") or b"",
                                userhandle=_field(params, "userhandle", required=False))
    return PasskeyAnswer(transaction_id, assertion, origin)


class PasskeyLogin:
    """Both steps of a usernameless login, each inside the caller's transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def initialize(self, session: Session, req: AuthRequest, token_type: str) -> dict[str, Any]:
        """The challenge for ``/validate/initialize`` (``detail.passkey``)."""
        if token_type.lower() != "passkey":
            raise ParameterError(f"Unsupported token type {token_type[:30]!r} for authentication initialization!")
        rights = self.engine.policies.user_rights(session, None, req.client)
        rp_id = rights.value(RP_ID_PARAM, None, scope=ENROLL)
        if not rp_id:
            raise PolicyError(f"Missing policy for {RP_ID_PARAM}, unable to create challenge!")
        verification = DEFAULT_USER_VERIFICATION
        snapshot = self.engine.sysconfig.snapshot(session)
        nonce = b64url_encode(os.urandom(32))
        transaction_id = challenges.new_transaction_id()
        challenges.create(session, transaction_id, "", ChallengeSpec(
            message=MESSAGE, challenge=nonce, data=_UV_PREFIX + verification),
            utc_datetime(self.engine.clock), challenge_validity(snapshot.settings, snapshot.extra, "passkey"))
        return {"transaction_id": transaction_id, "challenge": nonce, "message": MESSAGE, "rpId": str(rp_id),
                "user_verification": verification}

    def login(self, session: Session, req: AuthRequest, answer: PasskeyAnswer) -> AuthResult:
        """Decide the answer; raises TokenNotFound for a credential no token holds (nothing
        changes then). The caller commits, then raises ``result.refusal`` if set."""
        engine = self.engine
        now = utc_datetime(engine.clock)
        row = session.scalar(select(Token).join(TokenCredential, TokenCredential.token_id == Token.id)
                             .where(TokenCredential.credential_id_hash
                                    == credential_hash(answer.assertion.credential_id))
                             .options(selectinload(Token.info), selectinload(Token.owners)))
        if row is None:
            raise TokenNotFound("No token found for the given credential ID!")
        if not row.owners:
            return AuthResult(Outcome.REJECT, "No user found for the token with the given credential ID!",
                              serial=row.serial, token_type=row.tokentype)
        owner = row.owners[0]
        user = engine.directory.user_from_owner(session, owner.realm.name, owner.resolver, owner.user_id)
        state = engine.state_for(session, user, req.client)
        token = token_class(row.tokentype)(row, state.env)
        refused = AuthResult(Outcome.REJECT, "", user=user, serial=row.serial, token_type=row.tokentype)
        challenge = session.scalar(select(Challenge).where(Challenge.transaction_id == answer.transaction_id,
                                                           Challenge.serial.in_(("", row.serial)),
                                                           Challenge.expires_at > now))
        if challenge is None:
            refused.message = "No open passkey challenge for this transaction_id"
            return refused
        verdict = engine.verdict(session, state, token)
        if not verdict.ok:
            refused.message = verdict.problem or verdict.denial or ""
            return refused
        credential = StoredCredential.from_info(token.info_dict())
        if not origin_fits(answer.origin, credential.rp_id):
            refused.message = f"The origin {answer.origin[:100]!r} is not on the relying party's domain"
            return refused
        verification = challenge.data.removeprefix(_UV_PREFIX)
        try:
            asserted = verify_assertion(
                answer=answer.assertion, credential=credential,
                challenge=b64url_decode(challenge.challenge, "challenge"), origin=answer.origin,
                require_user_verification=verification == "required",
                user_id=b64url_decode(token.info(USER_ID) or "", USER_ID))
        except WebAuthnRefused as exc:
            refused.message = str(exc)
            return refused
        if not challenges.finish(session, answer.transaction_id):
            refused.message = "The challenge was answered already"
            return refused
        if _COUNTER.execute(session, {"token_id": row.id, "presented": asserted.sign_count,
                                      "now": now}).rowcount != 1:
            log.warning("passkey %s: signature counter went back; a cloned authenticator?", row.serial)
            refused.message = "The signature counter went back: the authenticator may be cloned"
            return refused
        return engine.authorize(session, state, token, AuthResult(
            Outcome.ACCEPT, "Found matching challenge", user=user, serial=row.serial, token_type=row.tokentype,
            decided_by=list(state.settings.policy_names)))
