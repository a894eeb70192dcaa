"""WebAuthn tokens (privacyIDEA's ``webauthn`` type): a FIDO2 credential registered in two
``/token/init`` steps and answered as a challenge through ``/validate/check``.

Step 1 stores a nonce and the enrollment policies' choices as tokeninfo and answers
``webAuthnRegisterRequest``; step 2 verifies the attestation against them (py_webauthn,
through core/webauthn) and stores the credential as tokeninfo. The signature counter lives
in the token's ``count`` column and only moves forward, by one conditional UPDATE: a
counter that does not is refused as a replay or a cloned authenticator.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from tesserad.core.clock import utc_datetime
from tesserad.core.store.models import Token, TokenInfo
from tesserad.core.store.prepared import Prepared
from tesserad.core.tokens.base import (
    SUCCESS,
    VALIDITY_FORMAT,
    ChallengeOptions,
    ChallengeSpec,
    ParameterError,
    Success,
    TokenClass,
)
from tesserad.core.tokens.record import settle
from tesserad.core.tokens.registry import register
from tesserad.core.webauthn import assertion, credential, registration, trust_anchors
from tesserad.core.webauthn.credential import StoredCredential, counter_moves_on
from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode
from tesserad.core.webauthn.errors import WebAuthnInputError, WebAuthnRefused
from tesserad.core.webauthn.wire import SignResponse

if TYPE_CHECKING:
    from tesserad.core.tokens.service import TokenService
    from tesserad.core.users.base import User

log = logging.getLogger(__name__)

DEFAULT_TEXT = "Please confirm with your WebAuthn token"
NONCE_BYTES = 32
# What the enrollment policies put into step 1 (core/enrollment.py), by /token/init parameter.
RP_ID, RP_NAME = "webauthn_relying_party_id", "webauthn_relying_party_name"
TIMEOUT, USER_VERIFICATION = "webauthn_timeout", "webauthn_user_verification_requirement"
ALGORITHMS, ATTESTATION_FORM = "webauthn_public_key_credential_algorithms", "webauthn_authenticator_attestation_form"
SELECTION_LIST, CHALLENGE_TEXT = "webauthn_authenticator_selection_list", "webauthn_challenge_text"
ATTACHMENT, REQUIRE = "webauthn_authenticator_attachment", "webauthn_req"
ATTESTATION_LEVEL = "webauthn_authenticator_attestation_level"
USER_NAME, DISPLAY_NAME, EXCLUDE = "webauthn_user_name", "webauthn_display_name", "webauthn_exclude"
# Tokeninfo of an enrollment between its two steps.
_PENDING = ("enroll_nonce", "enroll_transaction_id", "enroll_expires", "enroll_uv", "enroll_algorithms",
            "enroll_selection_list", "enroll_exclude", "enroll_req", "enroll_attestation_level")
# The counter moves to the presented value only past the stored one (both 0: no counter).
_ADVANCE = Prepared(update(Token).where(
    Token.id == bindparam("token_id"),
    or_(Token.count < bindparam("presented", type_=Integer),
        and_(Token.count == 0, bindparam("zero", type_=Integer) == 0)))
    .values(count=bindparam("presented", type_=Integer)))


def pending_serial(session: Session, transaction_id: str) -> str | None:
    """The WebAuthn token whose step 1 answered ``transaction_id`` (step 2 may omit the serial)."""
    return session.scalar(select(Token.serial).join(TokenInfo, TokenInfo.token_id == Token.id).where(
        Token.tokentype == "webauthn", TokenInfo.key == "enroll_transaction_id", TokenInfo.value == transaction_id))


def credential_ids(session: Session, user: User, tokens: TokenService) -> list[str]:
    """The credential ids of ``user``'s WebAuthn tokens (webauthn_avoid_double_registration)."""
    return [t.info(credential.CREDENTIAL_ID) or "" for t in tokens.tokens_of(session, user)
            if t.type == "webauthn" and t.info(credential.CREDENTIAL_ID)]


def attestation_matches(attestation: Mapping[str, str], rule: str) -> bool:
    """webauthn_req ``subject|issuer|serial/regex/``: the attestation certificate's field
    matches (an authenticator without a certificate matches nothing)."""
    key, _, pattern = rule.partition("/")
    value = attestation.get(f"attestation_{key}")
    return value is not None and re.search(pattern.removesuffix("/"), value) is not None


@register
class WebAuthnToken(TokenClass):
    type = "webauthn"
    prefix = "WAN"
    title = "WebAuthn Token"
    challenge_always = True
    client_mode = "webauthn"
    has_otp = False
    generates_otp = False
    answers_assertions = True
    # privacyIDEA's step 2 carries ``regdata`` instead of an ``otpkey``.
    second_step_parameter = "regdata"

    # ---- enrollment ----------------------------------------------------------------------

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        for name in (RP_ID, RP_NAME):
            if not params.get(name):
                raise ParameterError(f"Missing enrollment policy for WebAuthn token: {name}")
        from tesserad.core.auth.challenges import new_transaction_id  # core.auth imports the tokens

        nonce, transaction_id = os.urandom(NONCE_BYTES), new_transaction_id()
        timeout = int(params.get(TIMEOUT) or 60)
        uv = str(params.get(USER_VERIFICATION) or "preferred")
        algorithms = str(params.get(ALGORITHMS) or "ecdsa rsassa-pss").split()
        expires = utc_datetime(self.env.clock) + timedelta(seconds=timeout + 60)
        self.row.rollout_state = "clientwait"
        self.row.active = True
        for key, value in zip(_PENDING, (b64url_encode(nonce), transaction_id, expires.strftime(VALIDITY_FORMAT),
                                         uv, " ".join(algorithms), str(params.get(SELECTION_LIST) or ""),
                                         str(params.get(EXCLUDE) or ""), str(params.get(REQUIRE) or ""),
                                         str(params.get(ATTESTATION_LEVEL) or registration.DEFAULT_LEVEL)),
                              strict=True):
            self.set_info(key, value)
        self.set_info(credential.RP_ID, params[RP_ID])
        self.set_info(credential.RP_NAME, params[RP_NAME])
        request: dict[str, Any] = {
            "attestation": str(params.get(ATTESTATION_FORM) or "direct"),
            "authenticatorSelection": {"userVerification": uv},
            "displayName": str(params.get(DISPLAY_NAME) or params.get(USER_NAME) or ""),
            "message": str(params.get(CHALLENGE_TEXT) or DEFAULT_TEXT),
            "name": str(params.get(USER_NAME) or ""),
            "nonce": b64url_encode(nonce),
            "pubKeyCredAlgorithms": [{"alg": registration.ALGORITHMS[a], "type": "public-key"} for a in algorithms],
            "relyingParty": {"id": params[RP_ID], "name": params[RP_NAME]},
            "serialNumber": self.serial,
            "timeout": timeout * 1000,
            "transaction_id": transaction_id,
        }
        if params.get(ATTACHMENT):  # the browser offers only such authenticators; the server cannot tell
            request["authenticatorSelection"]["authenticatorAttachment"] = str(params[ATTACHMENT])
        if params.get(SELECTION_LIST):
            request["authenticatorSelectionList"] = str(params[SELECTION_LIST]).split()
        if params.get(EXCLUDE):
            request["excludeCredentials"] = [{"id": cid, "type": "public-key"} for cid in str(params[EXCLUDE]).split()]
        detail["webAuthnRegisterRequest"] = request
        return detail

    def complete_two_step(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Step 2: ``transaction_id``, ``clientdata``, ``regdata`` and the Origin header
        (``HTTP_ORIGIN``, set by the edge) complete the registration."""
        transaction_id = str(params.get("transaction_id") or "")
        if not hmac.compare_digest(transaction_id.encode(), (self.info("enroll_transaction_id") or "").encode()):
            raise ParameterError("transaction_id does not belong to this WebAuthn enrollment")
        origin = str(params.get("HTTP_ORIGIN") or "")
        if not origin:
            raise ParameterError("The ORIGIN HTTP header must be included, when enrolling a new WebAuthn token.")
        clientdata = b64url_decode(str(params.get("clientdata") or ""), "clientdata")
        regdata = b64url_decode(str(params.get("regdata") or ""), "regdata")
        if params.get("registrationclientextensions"):
            b64url_decode(str(params["registrationclientextensions"]), "registrationclientextensions")
        if not clientdata or not regdata:
            raise WebAuthnInputError("missing parameter: clientdata and regdata")
        if utc_datetime(self.env.clock) > datetime.strptime(self.info("enroll_expires") or "", VALIDITY_FORMAT):
            raise WebAuthnRefused("the WebAuthn enrollment has expired; start again")
        done = registration.verify_registration(
            clientdata=clientdata, regdata=regdata, challenge=b64url_decode(self.info("enroll_nonce") or "", "nonce"),
            rp_id=self.info(credential.RP_ID) or "", rp_name=self.info(credential.RP_NAME) or "", origin=origin,
            require_user_verification=self.info("enroll_uv") == "required",
            algorithms=[registration.ALGORITHMS[a] for a in (self.info("enroll_algorithms") or "").split()],
            level=self.info("enroll_attestation_level") or registration.DEFAULT_LEVEL,
            trust_anchor_dir=self.env.extra.get(trust_anchors.CONFIG_KEY))
        allowed = (self.info("enroll_selection_list") or "").lower().split()
        if allowed and done.credential.aaguid.lower() not in allowed:
            raise WebAuthnRefused(f"the authenticator model {done.credential.aaguid} may not be enrolled")
        certificate = done.certificate
        attestation = ({"attestation_subject": certificate.subject, "attestation_issuer": certificate.issuer,
                        "attestation_serial": certificate.serial} if certificate else {})
        if self.info("enroll_req") and not attestation_matches(attestation, self.info("enroll_req") or ""):
            raise WebAuthnRefused("The WebAuthn token is not allowed to be registered due to a policy restriction.")
        if b64url_encode(done.credential.credential_id) in (self.info("enroll_exclude") or "").split():
            raise WebAuthnRefused("this authenticator is registered for the user already")
        for key, value in done.credential.to_info().items():
            self.set_info(key, value)
        for key, value in attestation.items():
            self.set_info(key, value)
        for key in _PENDING:
            self.del_info(key)
        self.set_info("origin", origin)
        self.row.count = done.sign_count
        self.row.rollout_state = ""
        if not self.row.description:
            self.row.description = str(params.get("description") or "")[:255]
        return {"serial": self.serial, "rollout_state": "",
                "webAuthnRegisterResponse": {"subject": self.row.description}}

    def credential(self) -> StoredCredential:
        return StoredCredential.from_info({key: self.info(key) or "" for key in StoredCredential.KEYS})

    # ---- authentication ------------------------------------------------------------------

    def check_otp(self, otp: str) -> int:
        return -1  # only an assertion answers a WebAuthn token

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        return -1

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        nonce = os.urandom(NONCE_BYTES)
        stored = self.credential()
        sign_request = {
            "allowCredentials": [{"id": b64url_encode(stored.credential_id),
                                  "transports": list(options.webauthn_transports), "type": "public-key"}],
            "challenge": b64url_encode(nonce),
            "rpId": stored.rp_id,
            "timeout": options.webauthn_timeout * 1000,
            "userVerification": options.webauthn_user_verification,
        }
        data = json.dumps({"nonce": b64url_encode(nonce), "uv": options.webauthn_user_verification})
        return ChallengeSpec(message=options.webauthn_text or options.text or DEFAULT_TEXT, data=data,
                             challenge=b64url_encode(nonce),
                             attributes={"hideResponseInput": True, "webAuthnSignRequest": sign_request})

    def check_assertion(self, response: SignResponse | None, challenge_data: str) -> int:
        """The signature counter the answer presents (>= 0), or -1 without an answer;
        raises WebAuthnRefused when it does not verify."""
        if response is None:
            return -1
        stored = json.loads(challenge_data)
        answer = response.decoded
        # privacyIDEA's user handle is the serial; clients send it as text, some base64-encoded.
        handles = (self.serial.encode(), b64url_encode(self.serial.encode()).encode())
        if answer.userhandle is not None and not any(hmac.compare_digest(answer.userhandle, h) for h in handles):
            raise WebAuthnRefused("the user handle is not this token's")
        done = assertion.verify_assertion(
            answer=answer, credential=self.credential(), challenge=b64url_decode(stored["nonce"], "nonce"),
            origin=response.origin or "", require_user_verification=stored["uv"] == "required")
        if not counter_moves_on(self.row.count, done.sign_count):
            self._cloned(done.sign_count)
        return done.sign_count

    def consume(self, session: Session, matched: int, success: Success | None = None) -> bool:
        """Move the counter to ``matched`` if it is past the stored one, in one statement."""
        result = _ADVANCE.execute(session, {"token_id": self.row.id, "presented": matched, "zero": matched})
        if result.rowcount != 1:
            self._cloned(matched)
        settle(self.row, "count", matched)
        if success is not None:
            SUCCESS[success.count_auth].execute(session, {"token_id": self.row.id, "now": success.now})
        return True

    def _cloned(self, presented: int) -> None:
        log.warning("WebAuthn token %s: signature counter %d does not move past %d", self.serial, presented,
                    self.row.count)
        raise WebAuthnRefused(f"the signature counter {presented} does not move past {self.row.count}: "
                              "a replayed answer or a cloned authenticator")
