"""A Yubikey in AES mode, played in software: it produces the OTPs the key would (shared by
the token tests and the engine tests)."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tesserad.core.tokens.yubikey import crc16, modhex_encode

KEY = bytes(range(16))
UID = bytes([1, 2, 3, 4, 5, 6])
PUBLIC_ID = "cccjgjgkhcbb"


class FakeYubikey:
    """Produces Yubico OTPs the way the key does: fields, CRC, AES-128, modhex."""

    def __init__(self, key: bytes = KEY, uid: bytes = UID, public_id: str = PUBLIC_ID):
        self.key, self.uid, self.public_id = key, uid, public_id
        self.usage, self.session = 1, 0

    def block(self, usage: int, session: int, timestamp: int = 0x123456, rnd: int = 0x4242,
              corrupt: bool = False) -> str:
        body = self.uid + struct.pack("<HHBBH", usage, timestamp & 0xFFFF, timestamp >> 16, session, rnd)
        crc = ~crc16(body) & 0xFFFF
        plain = body + struct.pack("<H", crc ^ (1 if corrupt else 0))
        encryptor = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        return modhex_encode(encryptor.update(plain) + encryptor.finalize())

    def press(self) -> str:
        """The next OTP: the session counter counts presses, the usage counter power-ups."""
        otp = self.public_id + self.block(self.usage, self.session)
        self.session += 1
        return otp

    def replug(self) -> None:
        self.usage += 1
        self.session = 0
