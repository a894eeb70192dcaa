"""Passkeys (privacyIDEA 3.11+): a resident WebAuthn credential that logs in without a user name.

Enrolment takes two ``/token/init`` calls, as in privacyIDEA: the first returns
``passkey_registration`` (the options for ``navigator.credentials.create()``, resident key
required) and a ``transaction_id``; the second carries the authenticator's answer
(``attestationObject``, ``clientDataJSON``, ``credential_id``/``rawId``) and the page's
``Origin``. The user handle is one random id per user, shared by all the user's passkeys,
so the authenticator keeps one account for the user per relying party.

A passkey is never a password: ``check_otp`` refuses everything, so a PIN+OTP request
(RADIUS, PAM, ``pass=...``) cannot use it. It logs in through ``/validate/initialize`` and
the assertion answer (``core.auth.passkey_login``), or, with the authentication policy
``passkey_trigger_by_pin``, as a challenge that its PIN starts like a webauthn token's.
The signature counter lives in the token's ``count`` column, moved by a conditional UPDATE.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, object_session
from webauthn import options_to_json

from tesserad.core.auth.challenges import new_transaction_id
from tesserad.core.store.models import Token, TokenCredential, TokenInfo, TokenOwner
from tesserad.core.sysconfig import challenge_validity
from tesserad.core.tokens.base import ChallengeOptions, ChallengeSpec, ParameterError, TokenClass, TokenError
from tesserad.core.tokens.ownership import owner_is
from tesserad.core.tokens.record import settle
from tesserad.core.tokens.registry import register
from tesserad.core.tokens.webauthn import WebAuthnToken
from tesserad.core.users.base import User
from tesserad.core.webauthn.assertion import AssertionAnswer, verify_assertion
from tesserad.core.webauthn.credential import CREDENTIAL_ID, RP_ID, RP_NAME, StoredCredential
from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode
from tesserad.core.webauthn.errors import WebAuthnRefused
from tesserad.core.webauthn.registration import creation_options, verify_registration
from tesserad.core.webauthn.trust_anchors import CONFIG_KEY as TRUST_ANCHOR_DIR
from tesserad.core.webauthn.wire import SignResponse

# Parameters the enrolment policies put into /token/init (never the client's own values).
RP_ID_PARAM = "webauthn_relying_party_id"
RP_NAME_PARAM = "webauthn_relying_party_name"
UV_PARAM = "webauthn_user_verification_requirement"
# Unset, a passkey asks for no attestation and takes none (privacyIDEA 3.11 checks none);
# set to ``untrusted`` or ``trusted``, it asks for direct attestation and checks it.
LEVEL_PARAM = "webauthn_authenticator_attestation_level"
USER_NAME_PARAM = "passkey.user"
USER_ID_PARAM = "passkey.user_id"
EXCLUDE_PARAM = "passkey.exclude"
# The page's Origin header, set by the HTTP edge (a parameter of this name is overwritten).
ORIGIN_PARAM = "HTTP_ORIGIN"
ENROLMENT_PARAMS = (RP_ID_PARAM, RP_NAME_PARAM, UV_PARAM, LEVEL_PARAM, USER_NAME_PARAM, USER_ID_PARAM, EXCLUDE_PARAM)

# Tokeninfo of a passkey (privacyIDEA's names where it has them).
USER_ID = "fido2_user_id"
# The open registration: its nonce, transaction id and end (epoch seconds).
NONCE, TRANSACTION, UNTIL = "passkey_nonce", "passkey_transaction_id", "passkey_nonce_until"

MESSAGE = "Please authenticate with your passkey!"
ENROLLED = "enrolled"
CLIENTWAIT = "clientwait"
# privacyIDEA's default, ES256 then RS256 (Windows Hello), and EdDSA (tesserad's addition).
ALGORITHMS = (-7, -257, -8)
REGISTRATION_TIMEOUT_MS = 120000


def credential_hash(credential_id: bytes) -> str:
    return hashlib.sha256(credential_id).hexdigest()


def user_handle(session: Session, user: User) -> str:
    """The user's passkey user id (web-safe base64): the one their passkeys carry, or new."""
    found = session.scalar(select(TokenInfo.value).join(Token, Token.id == TokenInfo.token_id)
                           .join(TokenOwner, TokenOwner.token_id == Token.id)
                           .where(owner_is(user), Token.tokentype == "passkey", TokenInfo.key == USER_ID).limit(1))
    return found or b64url_encode(os.urandom(32))


def credential_ids(session: Session, user: User) -> list[str]:
    """The credential ids of the user's passkeys, which the authenticator must not register again."""
    return list(session.scalars(select(TokenInfo.value).join(Token, Token.id == TokenInfo.token_id)
                                .join(TokenOwner, TokenOwner.token_id == Token.id)
                                .where(owner_is(user), Token.tokentype == "passkey",
                                       TokenInfo.key == CREDENTIAL_ID)))


def _required(params: Mapping[str, Any], key: str, why: str) -> str:
    value = str(params.get(key) or "")
    if not value:
        raise ParameterError(why)
    return value


@register
class PasskeyToken(WebAuthnToken):
    """A WebAuthn token whose credential is resident and names its user: it shares the
    webauthn type's challenge, credential record and counter, not its enrolment."""

    type = "passkey"
    prefix = "PIPK"
    title = "Passkey"
    # A PIN starts a challenge only with passkey_trigger_by_pin (core/policy/auth.py).
    challenge_always = False
    challenge_by_policy = True
    # privacyIDEA 3.11's step 2 carries the attestation object instead of ``regdata``.
    second_step_parameter = "attestationObject"

    # ---- enrolment -----------------------------------------------------------------------

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Step one: the registration options and the transaction id to answer."""
        detail = TokenClass.enroll(self, params)
        user_name = _required(params, USER_NAME_PARAM, "A user is required to enroll a passkey")
        rp_id = _required(params, RP_ID_PARAM, f"Missing enrollment policy for {RP_ID_PARAM}")
        rp_name = _required(params, RP_NAME_PARAM, f"Missing enrollment policy for {RP_NAME_PARAM}")
        verification = str(params.get(UV_PARAM) or "preferred")
        level = str(params.get(LEVEL_PARAM) or "none")
        user_id = str(params[USER_ID_PARAM])
        nonce = os.urandom(32)
        options = creation_options(
            rp_id=rp_id, rp_name=rp_name, user_name=user_name, display_name=user_name,
            user_id=b64url_decode(user_id, USER_ID_PARAM), challenge=nonce, timeout_ms=REGISTRATION_TIMEOUT_MS,
            algorithms=ALGORITHMS, user_verification=verification, resident_key="required",
            attestation="none" if level == "none" else "direct",
            exclude=[b64url_decode(cid, EXCLUDE_PARAM) for cid in str(params.get(EXCLUDE_PARAM) or "").split()])
        transaction_id = new_transaction_id()
        validity = challenge_validity(self.env.settings, self.env.extra, self.type)
        for key, value in ((USER_ID, user_id), (RP_ID, rp_id), (RP_NAME, rp_name), (NONCE, b64url_encode(nonce)),
                           (TRANSACTION, transaction_id), (UNTIL, int(self.env.clock.now()) + validity),
                           (UV_PARAM, verification), (LEVEL_PARAM, level)):
            self.set_info(key, value)
        self.row.rollout_state, self.row.active = CLIENTWAIT, False
        detail.update(passkey_registration=json.loads(options_to_json(options)), transaction_id=transaction_id)
        return detail

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Step two: verify the authenticator's answer; the token becomes usable."""
        transaction_id = _required(params, "transaction_id", "missing parameter: transaction_id")
        origin = _required(params, ORIGIN_PARAM, "The Origin header is required to register a passkey")
        expected = self.info(TRANSACTION) or ""
        if not hmac.compare_digest(transaction_id.encode(), expected.encode()):
            raise ParameterError(f"No open passkey registration with this transaction_id for {self.serial}")
        if self.env.clock.now() > int(self.info(UNTIL) or 0):
            raise TokenError(f"The passkey registration of {self.serial} has timed out")
        clientdata = b64url_decode(_required(params, "clientDataJSON", "missing parameter: clientDataJSON"),
                                   "clientDataJSON")
        regdata = b64url_decode(_required(params, "attestationObject", "missing parameter: attestationObject"),
                                "attestationObject")
        try:
            registered = verify_registration(
                clientdata=clientdata, regdata=regdata, challenge=b64url_decode(self.info(NONCE) or "", NONCE),
                rp_id=self.info(RP_ID) or "", rp_name=self.info(RP_NAME) or "", origin=origin,
                require_user_verification=self.info(UV_PARAM) == "required", algorithms=ALGORITHMS,
                level=self.info(LEVEL_PARAM) or "none", trust_anchor_dir=self.env.extra.get(TRUST_ANCHOR_DIR))
        except WebAuthnRefused as exc:
            raise TokenError(str(exc)) from None  # privacyIDEA: an EnrollmentError, status 400
        credential = registered.credential
        claimed = params.get("credential_id") or params.get("rawId")
        if claimed and not hmac.compare_digest(b64url_decode(str(claimed), "credential_id"), credential.credential_id):
            raise ParameterError("credential_id is not the id of the attested credential")
        self._store(credential, registered.sign_count)
        return {"serial": self.serial, "rollout_state": ENROLLED}

    def _store(self, credential: StoredCredential, sign_count: int) -> None:
        """Finish the registration once (a second answer to it finds it closed) and file the
        credential under its hash (unique: a credential registered elsewhere is refused)."""
        session = object_session(self.row)
        if session is None:
            raise TokenError(f"token {self.serial} is not stored")
        digest = credential_hash(credential.credential_id)
        if session.scalar(select(TokenCredential.id).where(TokenCredential.credential_id_hash == digest)):
            raise TokenError("This passkey is already registered")
        closed = session.execute(update(Token).where(Token.id == self.row.id, Token.rollout_state == CLIENTWAIT)
                                 .values(rollout_state=ENROLLED, active=True, count=sign_count)
                                 .execution_options(synchronize_session=False))
        if closed.rowcount != 1:  # type: ignore[attr-defined]
            raise TokenError(f"The passkey registration of {self.serial} is already complete")
        for name, value in (("rollout_state", ENROLLED), ("active", True), ("count", sign_count)):
            settle(self.row, name, value)
        # A token enrolled again forgets its former credential.
        session.execute(delete(TokenCredential).where(TokenCredential.token_id == self.row.id))
        session.add(TokenCredential(credential_id_hash=digest, token_id=self.row.id))
        for key, value in credential.to_info().items():
            self.set_info(key, value)
        for key in (NONCE, TRANSACTION, UNTIL):
            self.del_info(key)

    # ---- authentication --------------------------------------------------------------------

    def triggerable(self, policy_types: frozenset[str]) -> bool:
        return self.type in policy_types

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        spec = super().create_challenge(options)
        if not (options.webauthn_text or options.text):
            spec.message = MESSAGE
        return spec

    def check_assertion(self, response: SignResponse | None, challenge_data: str) -> int:
        """The answer to a challenge a PIN started (passkey_trigger_by_pin)."""
        if response is None:
            return -1
        stored = json.loads(challenge_data)
        answer = response.decoded
        if answer.userhandle is not None:  # a passkey's handle is the user id, web-safe base64 on the wire
            answer = replace(answer, userhandle=b64url_decode(answer.userhandle.decode("ascii", "replace"),
                                                              "userhandle"))
        return self.verify(answer, response.origin or "", b64url_decode(stored["nonce"], "nonce"),
                           require_user_verification=stored["uv"] == "required")

    def verify(self, answer: AssertionAnswer, origin: str, challenge: bytes, *,
               require_user_verification: bool) -> int:
        """The signature counter the answer presents; raises WebAuthnRefused when the page is
        not on the relying party's domain, the user handle is not the user's, or it does not verify."""
        return verify_assertion(answer=answer, credential=self.credential(), challenge=challenge, origin=origin,
                                require_user_verification=require_user_verification,
                                user_id=b64url_decode(self.info(USER_ID) or "", USER_ID)).sign_count
