"""Ed25519 signatures for audit entries (and, later, API responses).

Ed25519 rather than RSA: privacyIDEA's profile showed RSA signing dominating request
time; an Ed25519 signature costs tens of microseconds.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tesserad.core.errors import KeyFileError

SIGNATURE_PREFIX = "ed25519:"


class Signer:
    """Signs with a private key and verifies with its public half."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._private = private_key
        self.public_key = private_key.public_key()

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, source: str) -> Signer:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{source}: not a PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{source}: expected an Ed25519 key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> str:
        return SIGNATURE_PREFIX + self._private.sign(data).hex()

    def verify(self, data: bytes, signature: str) -> bool:
        return verify_with(self.public_key, data, signature)


def verify_with(public_key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    """Check a signature made by ``Signer.sign``; False for any malformed input."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return False
    try:
        public_key.verify(bytes.fromhex(signature[len(SIGNATURE_PREFIX):]), data)
    except (InvalidSignature, ValueError):
        return False
    return True
