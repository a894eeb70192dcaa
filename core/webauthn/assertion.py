"""Authentication ceremony: options for navigator.credentials.get() and the verification
of its answer against a stored credential, through py_webauthn.

The counter is compared here only to refuse early; the decision that counts is the
caller's atomic conditional UPDATE of the stored counter (``credential.counter_moves_on``).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from webauthn import generate_authentication_options, verify_authentication_response
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorAssertionResponse,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    UserVerificationRequirement,
)

from tesserad.core.webauthn import parsing
from tesserad.core.webauthn.credential import StoredCredential
from tesserad.core.webauthn.errors import WebAuthnRefused

TRANSPORTS = ("usb", "ble", "nfc", "internal")


@dataclass(frozen=True)
class Asserted:
    sign_count: int
    user_verified: bool


@dataclass(frozen=True)
class AssertionAnswer:
    """The fields of one answer, decoded from the wire."""

    credential_id: bytes
    clientdata: bytes
    authenticatordata: bytes
    signature: bytes
    userhandle: bytes | None = None


def request_options(*, rp_id: str, challenge: bytes, timeout_ms: int, user_verification: str,
                    allow: Sequence[bytes] = (), transports: Sequence[str] = TRANSPORTS,
                    ) -> PublicKeyCredentialRequestOptions:
    return generate_authentication_options(
        rp_id=rp_id, challenge=challenge, timeout=timeout_ms,
        user_verification=UserVerificationRequirement(user_verification),
        allow_credentials=[PublicKeyCredentialDescriptor(
            id=cid, transports=[AuthenticatorTransport(t) for t in transports]) for cid in allow])


def verify_assertion(*, answer: AssertionAnswer, credential: StoredCredential, challenge: bytes, origin: str,
                     require_user_verification: bool = False, user_id: bytes | None = None) -> Asserted:
    """Verify ``answer`` to ``challenge`` for ``credential`` (its RP ID is the expected one)."""
    parsing.client_data(answer.clientdata, parsing.GET)
    parsing.authenticator_data(answer.authenticatordata)
    parsing.check_origin(origin, credential.rp_id)
    if not hmac.compare_digest(answer.credential_id, credential.credential_id):
        raise WebAuthnRefused("the answer is for another credential")
    if answer.userhandle and user_id is not None and not hmac.compare_digest(answer.userhandle, user_id):
        raise WebAuthnRefused("the user handle is not this user's")
    wrapped = AuthenticationCredential(
        id=bytes_to_base64url(answer.credential_id), raw_id=answer.credential_id,
        response=AuthenticatorAssertionResponse(client_data_json=answer.clientdata,
                                                authenticator_data=answer.authenticatordata,
                                                signature=answer.signature, user_handle=answer.userhandle))
    try:
        # Counter 0 here: the counter is the caller's atomic UPDATE, not a read-then-compare.
        verified = verify_authentication_response(
            credential=wrapped, expected_challenge=challenge, expected_rp_id=credential.rp_id,
            expected_origin=origin, credential_public_key=credential.public_key,
            credential_current_sign_count=0, require_user_verification=require_user_verification)
    except InvalidAuthenticationResponse as exc:
        raise WebAuthnRefused(f"assertion refused: {exc}") from None
    except Exception as exc:  # a stored key py_webauthn cannot use
        raise WebAuthnRefused(f"assertion refused: unusable credential key ({type(exc).__name__})") from None
    return Asserted(sign_count=verified.new_sign_count, user_verified=verified.user_verified)
