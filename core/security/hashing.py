"""Hashes of PINs and admin passwords: argon2id over a peppered HMAC.

The pepper (from the key file) means a stolen database alone does not allow offline
guessing; argon2id makes guessing slow even with the pepper. Verification is
constant-time inside argon2. Parameters come from the ``[security]`` config.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class SecretHasher:
    def __init__(self, pepper: bytes, *, time_cost: int = 3, memory_cost: int = 65536,
                 parallelism: int = 4):
        self._pepper = pepper
        self._argon2 = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                      parallelism=parallelism)
        self._decoy: str | None = None

    def _peppered(self, secret: str) -> bytes:
        return hmac.new(self._pepper, secret.encode("utf-8"), hashlib.sha256).digest()

    def hash(self, secret: str) -> str:
        return self._argon2.hash(self._peppered(secret))

    def verify(self, stored: str, secret: str) -> bool:
        """True only for the right secret; False for a wrong one or a malformed hash."""
        try:
            return self._argon2.verify(stored, self._peppered(secret))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def keyed_digest(self, secret: str) -> str:
        """A fast, deterministic keyed hash (hex) for looking a short-lived secret up by
        equality (the authentication cache): useless without the pepper."""
        return self._peppered(secret).hex()

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with other parameters than the configured ones."""
        try:
            return self._argon2.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def verify_nothing(self, secret: str) -> bool:
        """Spend one verification's work and return False: used when the account does not
        exist, so that timing does not reveal which names exist."""
        if self._decoy is None:
            self._decoy = self.hash(secrets.token_hex(16))
        self.verify(self._decoy, secret)
        return False
