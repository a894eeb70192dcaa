"""The default security module: AES-256-GCM under keys kept in a 0600 file.

Ciphertext layout (so keys can rotate without re-encrypting everything at once)::

    version (1 byte, 0x01) | key id (2 bytes, big endian) | nonce (12 bytes) | ciphertext+tag

The key file is JSON with base64 values: the encryption keys by id and which one is
current, a MAC key and the pepper used for PIN and password hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tesserad.core.errors import DecryptionError, KeyFileError
from tesserad.core.security.base import SecurityModule

FORMAT_VERSION = 1
CIPHERTEXT_VERSION = 0x01
_HEADER = struct.Struct(">BH")
_NONCE_LEN = 12
_TAG_LEN = 16


class KeyMaterial:
    """The parsed content of a key file."""

    def __init__(self, current: int, keys: dict[int, bytes], mac_key: bytes, pepper: bytes):
        if current not in keys:
            raise KeyFileError(f"current encryption key {current} is not in the key file")
        self.current = current
        self.keys = keys
        self.mac_key = mac_key
        self.pepper = pepper

    @classmethod
    def generate(cls) -> KeyMaterial:
        return cls(1, {1: os.urandom(32)}, os.urandom(32), os.urandom(32))

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT_VERSION,
            "encryption": {"current": self.current,
                           "keys": {str(k): _b64(v) for k, v in sorted(self.keys.items())}},
            "mac": _b64(self.mac_key),
            "pepper": _b64(self.pepper),
        }, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> KeyMaterial:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            enc = data["encryption"]
            keys = {int(k): _unb64(v, 32) for k, v in enc["keys"].items()}
            if not keys or not all(0 < k < 65536 for k in keys):
                raise ValueError("key ids must be 1..65535")
            return cls(int(enc["current"]), keys, _unb64(data["mac"], 32), _unb64(data["pepper"], 32))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(f"{source}: malformed key file ({exc})") from None


class KeyFileSecurityModule(SecurityModule):
    """AES-256-GCM with key ids; HMAC-SHA256 with per-purpose derived keys."""

    name = "keyfile"

    def __init__(self, material: KeyMaterial):
        self._material = material
        self._aead = {kid: AESGCM(key) for kid, key in material.keys.items()}

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        kid = self._material.current
        nonce = os.urandom(_NONCE_LEN)
        header = _HEADER.pack(CIPHERTEXT_VERSION, kid)
        return header + nonce + self._aead[kid].encrypt(nonce, plaintext, header + context)

    def decrypt(self, ciphertext: bytes, *, context: bytes = b"") -> bytes:
        if len(ciphertext) < _HEADER.size + _NONCE_LEN + _TAG_LEN:
            raise DecryptionError("ciphertext is truncated")
        version, kid = _HEADER.unpack_from(ciphertext)
        if version != CIPHERTEXT_VERSION:
            raise DecryptionError(f"unknown ciphertext version {version}")
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptionError(f"ciphertext was made with key {kid}, which is not in the key file")
        header = ciphertext[:_HEADER.size]
        nonce = ciphertext[_HEADER.size:_HEADER.size + _NONCE_LEN]
        try:
            return aead.decrypt(nonce, ciphertext[_HEADER.size + _NONCE_LEN:], header + context)
        except InvalidTag:
            raise DecryptionError("ciphertext failed authentication (tampered, or wrong context)") from None

    def hmac(self, data: bytes, *, purpose: str) -> bytes:
        key = hmac.new(self._material.mac_key, b"tesserad-purpose:" + purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, data, hashlib.sha256).digest()

    def random(self, length: int) -> bytes:
        return os.urandom(length)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, length: int) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != length:
        raise ValueError(f"a key must be {length} bytes, got {len(raw)}")
    return raw

