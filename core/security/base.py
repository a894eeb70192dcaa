"""The security-module interface: everything the core does with key material goes through it.

A module owns its keys; callers never see them. The key-file module is the default,
a PKCS#11 HSM module comes later and must fit the same four operations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class SecurityModule(ABC):
    """Encrypts secrets at rest, derives keyed MACs and hands out random bytes."""

    name: str

    @abstractmethod
    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Authenticated encryption. ``context`` (e.g. ``b"token:OATH0001"``) is bound to
        the ciphertext as associated data, so a ciphertext moved to another row fails."""

    @abstractmethod
    def decrypt(self, ciphertext: bytes, *, context: bytes = b"") -> bytes:
        """Inverse of encrypt; raises DecryptionError on any tampering or wrong context."""

    @abstractmethod
    def hmac(self, data: bytes, *, purpose: str) -> bytes:
        """A keyed MAC, with a separate key per ``purpose`` (derived, never stored)."""

    @abstractmethod
    def random(self, length: int) -> bytes:
        """Cryptographically secure random bytes."""
