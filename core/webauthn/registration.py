"""Registration ceremony: options for navigator.credentials.create() and the
verification of its answer, through py_webauthn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from webauthn import generate_registration_options, verify_registration_response
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tesserad.core.webauthn import parsing
from tesserad.core.webauthn.credential import StoredCredential
from tesserad.core.webauthn.errors import WebAuthnRefused
from tesserad.core.webauthn.trust_anchors import trust_anchors

# privacyIDEA's policy names of the algorithms (webauthn_public_key_credential_algorithms),
# in its order of preference; ``eddsa`` is tesserad's addition.
ALGORITHMS = {"ecdsa": -7, "rsassa-pss": -37, "rsassa-pkcs1v1_5": -257, "eddsa": -8}
# webauthn_authenticator_attestation_level, as privacyIDEA reads it: ``none`` takes any
# attestation, even none at all; ``untrusted`` (the default) wants a statement that verifies,
# self attestation and unknown CAs included; ``trusted`` wants a certificate that chains to
# an anchor of webauthn.trust_anchor_dir.
LEVELS = ("none", "untrusted", "trusted")
DEFAULT_LEVEL = "untrusted"


@dataclass(frozen=True)
class AttestationCertificate:
    """What identifies the certificate of a full attestation (privacyIDEA's tokeninfo
    ``attestation_subject``, ``attestation_issuer``, ``attestation_serial``)."""

    subject: str
    issuer: str
    serial: str

    @classmethod
    def of(cls, der: bytes) -> AttestationCertificate:
        cert = x509.load_der_x509_certificate(der)
        return cls(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), str(cert.serial_number))


@dataclass(frozen=True)
class Registered:
    credential: StoredCredential
    sign_count: int
    user_verified: bool
    # The attestation statement's certificate (None for "none" and self attestation).
    certificate: AttestationCertificate | None


def creation_options(*, rp_id: str, rp_name: str, user_name: str, display_name: str, user_id: bytes,
                     challenge: bytes, timeout_ms: int, algorithms: Sequence[int], user_verification: str,
                     attachment: str | None = None, resident_key: str = "discouraged",
                     attestation: str = "direct", exclude: Sequence[bytes] = ()) -> PublicKeyCredentialCreationOptions:
    selection = AuthenticatorSelectionCriteria(
        authenticator_attachment=AuthenticatorAttachment(attachment) if attachment else None,
        resident_key=ResidentKeyRequirement(resident_key),
        require_resident_key=resident_key == "required",
        user_verification=UserVerificationRequirement(user_verification))
    return generate_registration_options(
        rp_id=rp_id, rp_name=rp_name, user_name=user_name, user_id=user_id, user_display_name=display_name,
        challenge=challenge, timeout=timeout_ms, attestation=AttestationConveyancePreference(attestation),
        authenticator_selection=selection,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in exclude],
        supported_pub_key_algs=[COSEAlgorithmIdentifier(alg) for alg in algorithms])


def verify_registration(*, clientdata: bytes, regdata: bytes, challenge: bytes, rp_id: str, origin: str,
                        rp_name: str = "", require_user_verification: bool = False,
                        algorithms: Sequence[int] = tuple(ALGORITHMS.values()),
                        level: str = DEFAULT_LEVEL, trust_anchor_dir: str | None = None) -> Registered:
    """Verify the answer to ``challenge``; ``regdata`` is the attestation object, checked
    as strictly as ``level`` says (``trust_anchor_dir`` is read only for ``trusted``)."""
    parsing.client_data(clientdata, parsing.CREATE)
    attested = parsing.attestation_object(regdata)
    parsing.check_origin(origin, rp_id)
    if level not in LEVELS:
        raise WebAuthnRefused(f"unknown webauthn_authenticator_attestation_level {level!r}")
    if attested.fmt == "none" and level != "none":
        raise WebAuthnRefused(f"registration refused: the authenticator sent no attestation, and the "
                              f"attestation level {level} requires one")
    if level == "trusted" and not attested.att_stmt.x5c:
        raise WebAuthnRefused("registration refused: self attestation is not permitted by the attestation "
                              "level trusted")
    data = attested.auth_data.attested_credential_data
    if data is None:
        raise WebAuthnRefused("the authenticator sent no attested credential data")
    credential = RegistrationCredential(
        id=bytes_to_base64url(data.credential_id), raw_id=data.credential_id,
        response=AuthenticatorAttestationResponse(client_data_json=clientdata, attestation_object=regdata))
    roots = {attested.fmt: list(trust_anchors(trust_anchor_dir))} if level == "trusted" else None
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            require_user_verification=require_user_verification,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(alg) for alg in algorithms],
            pem_root_certs_bytes_by_fmt=roots)
    except InvalidRegistrationResponse as exc:
        raise WebAuthnRefused(f"registration refused: {exc}") from None
    except Exception as exc:  # an attestation statement py_webauthn cannot even read
        raise WebAuthnRefused(f"registration refused: unreadable {attested.fmt} attestation "
                              f"({type(exc).__name__})") from None
    fmt = str(getattr(verified.fmt, "value", verified.fmt))  # py_webauthn hands back a plain str
    stored = StoredCredential(credential_id=verified.credential_id, public_key=verified.credential_public_key,
                              rp_id=rp_id, rp_name=rp_name, aaguid=verified.aaguid, fmt=fmt)
    return Registered(credential=stored, sign_count=verified.sign_count, user_verified=verified.user_verified,
                      certificate=AttestationCertificate.of(attested.att_stmt.x5c[0]) if attested.att_stmt.x5c
                      else None)
