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

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.auth import challenges
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.clock import utc_datetime
from tesserad.core.policy.actions import ENROLL
from tesserad.core.policy.errors import PolicyError
from tesserad.core.store.models import Challenge, Token, TokenCredential
from tesserad.core.sysconfig import challenge_validity
from tesserad.core.tokens.base import ChallengeSpec, ParameterError, TokenNotFound
from tesserad.core.tokens.passkey import MESSAGE, RP_ID_PARAM, PasskeyToken, credential_hash
from tesserad.core.webauthn.assertion import AssertionAnswer
from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode
from tesserad.core.webauthn.errors import WebAuthnRefused

# Answer fields: privacyIDEA 3.11's names first, then the webauthn token's.
FIELDS = {"credential_id": ("credential_id", "credentialid", "rawId"),
          "clientdata": ("clientDataJSON", "clientdata"),
          "authenticatordata": ("authenticatorData", "authenticatordata"),
          "signature": ("signature", "signaturedata"),
          "userhandle": ("userHandle", "userhandle")}
_WEBAUTHN_NAMES = {"credential_id": "credentialid", "rawId": "credentialid", "clientDataJSON": "clientdata",
                   "authenticatorData": "authenticatordata", "signature": "signaturedata", "userHandle": "userhandle"}


@dataclass(frozen=True)
class PasskeyAnswer:
    transaction_id: str
    assertion: AssertionAnswer
    # The page's Origin header.
    origin: str


def webauthn_names(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with privacyIDEA 3.11's names of an answer also under the webauthn token's
    (``clientDataJSON`` as ``clientdata``, ...), where those are not given, so that an answer
    to a challenge a PIN started may use either."""
    renamed = dict(params)
    for name, legacy in _WEBAUTHN_NAMES.items():
        if params.get(name) and not renamed.get(legacy):
            renamed[legacy] = params[name]
    return renamed


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
        # The authentication policy webauthn_user_verification_requirement, as privacyIDEA reads it.
        verification = self.engine.policies.for_request(session, None, req.client).webauthn_user_verification
        snapshot = self.engine.sysconfig.snapshot(session)
        nonce = b64url_encode(os.urandom(32))
        transaction_id = challenges.new_transaction_id()
        challenges.create(session, transaction_id, "", ChallengeSpec(
            message=MESSAGE, challenge=nonce, data=json.dumps({"nonce": nonce, "uv": verification})),
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
                                    == credential_hash(answer.assertion.credential_id),
                                    Token.tokentype == PasskeyToken.type)
                             .options(selectinload(Token.info), selectinload(Token.owners)))
        if row is None:
            raise TokenNotFound("No token found for the given credential ID!")
        if not row.owners:
            return AuthResult(Outcome.REJECT, "No user found for the token with the given credential ID!",
                              serial=row.serial, token_type=row.tokentype)
        owner = row.owners[0]
        user = engine.directory.user_from_owner(session, owner.realm.name, owner.resolver, owner.user_id)
        state = engine.state_for(session, user, req.client)
        token = PasskeyToken(row, state.env)
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
        stored = json.loads(challenge.data)
        try:
            presented = token.verify(answer.assertion, answer.origin, b64url_decode(stored["nonce"], "nonce"),
                                     require_user_verification=stored["uv"] == "required")
            if not challenges.finish(session, answer.transaction_id):
                refused.message = "The challenge was answered already"
                return refused
            token.consume(session, presented, state.success)  # a counter that goes back: WebAuthnRefused
        except WebAuthnRefused as exc:
            refused.message = str(exc)
            return refused
        return engine.authorize(session, state, token, AuthResult(
            Outcome.ACCEPT, "Found matching challenge", user=user, serial=row.serial, token_type=row.tokentype,
            decided_by=list(state.settings.policy_names)))
