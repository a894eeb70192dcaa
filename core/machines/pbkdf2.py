"""passlib's ``$pbkdf2-sha512$`` hash format, the one privacyIDEA's offline clients verify.

``$pbkdf2-sha512$<rounds>$<salt>$<checksum>`` with salt and checksum in passlib's "adapted
base64" (``.`` instead of ``+``, no padding), a 64-byte PBKDF2-HMAC-SHA512 checksum. Written
here (a few lines over hashlib) so that the server and the agent need no passlib at run time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

PREFIX = "$pbkdf2-sha512$"
SALT_SIZE = 10  # privacyIDEA's offline bag: salt_size=10


def _ab64_encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("+", ".")


def _ab64_decode(text: str) -> bytes:
    padded = text.replace(".", "+") + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), validate=True)


def hash_value(secret: str, rounds: int, salt: bytes | None = None) -> str:
    """The passlib ``pbkdf2_sha512`` hash of ``secret`` with a random 10-byte salt."""
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, rounds)
    return f"{PREFIX}{rounds}${_ab64_encode(salt)}${_ab64_encode(digest)}"


def verify(secret: str, hashed: str) -> bool:
    """Whether ``secret`` matches ``hashed`` (constant-time compare); False for a malformed hash."""
    if not hashed.startswith(PREFIX):
        return False
    parts = hashed[len(PREFIX):].split("$")
    if len(parts) != 3 or not parts[0].isdigit() or not 0 < int(parts[0]) <= 10_000_000:
        return False
    try:
        salt, expected = _ab64_decode(parts[1]), _ab64_decode(parts[2])
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, int(parts[0]))
    return hmac.compare_digest(digest, expected)
