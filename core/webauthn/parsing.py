"""Decode the three structures of an answer with py_webauthn's parsers, so that malformed
input is refused as input (with the field's name) before any verification runs."""

from __future__ import annotations

from urllib.parse import urlsplit

from webauthn.helpers import parse_attestation_object, parse_authenticator_data, parse_client_data_json
from webauthn.helpers.structs import AttestationObject, AuthenticatorData, CollectedClientData

from tesserad.core.webauthn.errors import WebAuthnInputError, WebAuthnRefused

CREATE = "webauthn.create"
GET = "webauthn.get"


def client_data(raw: bytes, expected_type: str) -> CollectedClientData:
    """The collected client data of the ceremony ``expected_type`` (create or get)."""
    try:
        parsed = parse_client_data_json(raw)
    except Exception as exc:  # py_webauthn raises several types for one cause: bad JSON
        raise WebAuthnInputError(f"clientdata is not WebAuthn client data JSON: {_reason(exc)}") from None
    if parsed.type != expected_type:
        raise WebAuthnInputError(f"clientdata has type {str(parsed.type)[:40]!r}, expected {expected_type!r}")
    return parsed


def attestation_object(raw: bytes) -> AttestationObject:
    try:
        return parse_attestation_object(raw)
    except Exception:
        raise WebAuthnInputError("regdata is not a CBOR attestation object (truncated or malformed)") from None


def authenticator_data(raw: bytes) -> AuthenticatorData:
    try:
        return parse_authenticator_data(raw)
    except Exception:
        raise WebAuthnInputError("authenticatordata is truncated or malformed") from None


def _reason(exc: Exception) -> str:
    # py_webauthn's own messages name the missing property; they hold no input bytes.
    text = str(exc) if type(exc).__name__ == "InvalidJSONStructure" else "a field of the wrong form"
    return text[:120]


def check_origin(origin: str, rp_id: str) -> None:
    """WebAuthn §7.1 step 9: the origin must be one the relying party expects. The client's
    Origin header is only a claim; an origin of the RP ID's domain (https, or http on
    localhost as browsers allow) is what this server accepts."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    secure = parts is not None and (parts.scheme == "https" or (parts.scheme == "http" and host == "localhost"))
    if not secure or not (host == rp_id or host.endswith("." + rp_id)):
        raise WebAuthnRefused(f"the origin {origin[:100]!r} is not of the relying party {rp_id!r}")
