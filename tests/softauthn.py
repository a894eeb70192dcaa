"""A software WebAuthn authenticator (with the browser's part: the client data), written
against the W3C structures through ``fido2``'s data types and ``cryptography``, sharing no
code with the server, so that a bug on one side is not mirrored on the other.

Knobs: algorithm (ES256, EdDSA, RS256), attestation ("none", "packed" self attestation (the
default, what most authenticators send), or "packed" full attestation by an ``AttestationCA``),
origin and RP ID per ceremony, the counter (set it back to play a clone), the
user-verified flag, and ``tamper`` to flip a signature bit.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fido2.cose import ES256, RS256, CoseKey, EdDSA
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData, CollectedClientData

FLAGS = AuthenticatorData.FLAG


def websafe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key(alg: str):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1()), ES256
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate(), EdDSA
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048), RS256
    raise ValueError(alg)


class AttestationCA:
    """A vendor's attestation root and one attestation certificate (ES256) its authenticators
    sign "packed" attestation statements with (x5c: the certificate)."""

    def __init__(self, subject: str = "Tessera Test Key", serial: int = 4242, root: str = "Tessera Test Root"):
        now = datetime.datetime.now(datetime.UTC)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, root)])
        self.root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
                     .public_key(self.root_key.public_key()).serial_number(1)
                     .not_valid_before(start).not_valid_after(end)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.root_key, hashes.SHA256()))
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (x509.CertificateBuilder()
                     .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject),
                                              x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                                                 "Authenticator Attestation")]))
                     .issuer_name(root_name).public_key(self.key.public_key()).serial_number(serial)
                     .not_valid_before(start).not_valid_after(end)
                     .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                     .sign(self.root_key, hashes.SHA256()))

    def statement(self, signed: bytes) -> dict:
        return {"alg": ES256.ALGORITHM, "sig": self.key.sign(signed, ec.ECDSA(hashes.SHA256())),
                "x5c": [self.cert.public_bytes(Encoding.DER)]}


@dataclass
class Registration:
    credential_id: bytes
    clientdata: bytes
    regdata: bytes

    def wire(self) -> dict[str, str]:
        """privacyIDEA's /token/init step 2 fields."""
        return {"clientdata": websafe(self.clientdata), "regdata": websafe(self.regdata)}


@dataclass
class Assertion:
    credential_id: bytes
    clientdata: bytes
    authenticatordata: bytes
    signature: bytes
    userhandle: bytes | None = None

    def wire(self) -> dict[str, str]:
        """privacyIDEA's /validate/check answer fields."""
        out = {"credentialid": websafe(self.credential_id), "clientdata": websafe(self.clientdata),
               "authenticatordata": websafe(self.authenticatordata), "signaturedata": websafe(self.signature)}
        if self.userhandle is not None:
            out["userhandle"] = self.userhandle.decode()  # privacyIDEA: the handle as text
        return out


@dataclass
class SoftAuthenticator:
    alg: str = "ES256"
    origin: str = "https://tessera.example"
    rp_id: str = "tessera.example"
    aaguid: bytes = bytes(range(16))
    counter: int = 0
    user_verified: bool = True
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    user_handle: bytes | None = None
    # With a CA: "packed" statements are full attestation signed by its certificate.
    vendor: AttestationCA | None = None

    def __post_init__(self) -> None:
        self._key, self._cose = _new_key(self.alg)

    @property
    def cose_key(self) -> CoseKey:
        return self._cose.from_cryptography_key(self._key.public_key())

    def _sign(self, data: bytes) -> bytes:
        if self.alg == "ES256":
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == "RS256":
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self._key.sign(data)

    def _flags(self, user_verified: bool | None) -> int:
        uv = self.user_verified if user_verified is None else user_verified
        return FLAGS.UP | (FLAGS.UV if uv else 0)

    def register(self, challenge: bytes, *, fmt: str = "packed", origin: str | None = None,
                 rp_id: str | None = None, user_verified: bool | None = None,
                 client_type: str = "webauthn.create") -> Registration:
        client = CollectedClientData.create(client_type, challenge, origin or self.origin)
        attested = AttestedCredentialData.create(self.aaguid, self.credential_id, self.cose_key)
        auth_data = AuthenticatorData.create(hashlib.sha256((rp_id or self.rp_id).encode()).digest(),
                                             self._flags(user_verified) | FLAGS.AT, self.counter, attested)
        statement: dict = {}
        signed = bytes(auth_data) + hashlib.sha256(client).digest()
        if fmt == "packed" and self.vendor is not None:
            statement = self.vendor.statement(signed)
        elif fmt == "packed":  # self attestation: signed by the credential key itself, no x5c
            statement = {"alg": self._cose.ALGORITHM, "sig": self._sign(signed)}
        return Registration(self.credential_id, bytes(client),
                            bytes(AttestationObject.create(fmt, auth_data, statement)))

    def assert_(self, challenge: bytes, *, origin: str | None = None, rp_id: str | None = None,
                counter: int | None = None, user_verified: bool | None = None, tamper: bool = False,
                client_type: str = "webauthn.get") -> Assertion:
        """Sign ``challenge``; the counter goes up by one unless ``counter`` sets it."""
        self.counter = self.counter + 1 if counter is None else counter
        client = CollectedClientData.create(client_type, challenge, origin or self.origin)
        auth_data = AuthenticatorData.create(hashlib.sha256((rp_id or self.rp_id).encode()).digest(),
                                             self._flags(user_verified), self.counter)
        signature = bytearray(self._sign(bytes(auth_data) + hashlib.sha256(client).digest()))
        if tamper:
            signature[-1] ^= 0x01
        return Assertion(self.credential_id, bytes(client), bytes(auth_data), bytes(signature), self.user_handle)


def truncated(data: bytes) -> bytes:
    """``data`` cut in the middle (a CBOR structure that ends too early)."""
    return data[: len(data) // 2]
