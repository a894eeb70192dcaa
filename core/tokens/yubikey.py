"""Yubikey in Yubico OTP (AES) mode, validated locally: the key's AES secret stays here.

A Yubico OTP is the modhex public id (12 or 16 characters) followed by 32 modhex
characters: one AES-128 block holding private uid (6 bytes), usage counter (2, little
endian), timestamp (3), session counter (1), random (2) and a CRC-16 (2). The counter
``(usage << 8) | session`` grows with every OTP; ``count`` holds the one after the last
accepted, so the base class's conditional UPDATE refuses replays and older OTPs.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy.orm import Session

from tesserad.core.tokens.base import ParameterError, Success, TokenClass, decode_key, param_bool, param_int
from tesserad.core.tokens.registry import register

MODHEX = "cbdefghijklnrtuv"
_TO_HEX = str.maketrans(MODHEX, "0123456789abcdef")
_FROM_HEX = str.maketrans("0123456789abcdef", MODHEX)
OTP_CHARS = 32
CRC_RESIDUAL = 0xF0B8
# The top bit of the usage counter flags an OTP triggered by caps lock, not a count.
USAGE_MASK = 0x7FFF
DEFAULT_OTPLEN = 44

# check_otp results below zero, as the spec numbers them.
OLD_COUNTER = -1
WRONG_UID = -2
BAD_CRC = -3


def modhex_decode(text: str) -> bytes:
    """Bytes from modhex; ValueError for anything that is not modhex."""
    lowered = text.lower()
    if len(lowered) % 2 or any(ch not in MODHEX for ch in lowered):
        raise ValueError("not modhex")
    return bytes.fromhex(lowered.translate(_TO_HEX))


def modhex_encode(raw: bytes) -> str:
    return raw.hex().translate(_FROM_HEX)


def crc16(data: bytes) -> int:
    """CRC-16 (ISO 13239) as the Yubikey computes it; over a whole OTP block including its
    own (complemented) CRC it leaves the residual 0xF0B8."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True)
class YubicoOtp:
    """One decrypted OTP block."""

    uid: bytes
    usage: int
    timestamp: int
    session: int
    random: int

    @property
    def counter(self) -> int:
        return ((self.usage & USAGE_MASK) << 8) | self.session

    @classmethod
    def decrypt(cls, key: bytes, block: bytes) -> YubicoOtp | None:
        """The fields of ``block`` under ``key``, or None when the CRC does not check out
        (wrong key or garbage)."""
        decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # nosec B305  # Yubico OTP is one ECB block
        plain = decryptor.update(block) + decryptor.finalize()
        if crc16(plain) != CRC_RESIDUAL:
            return None
        usage, ts_low, ts_high, session, rnd = struct.unpack_from("<HHBBH", plain, 6)
        return cls(plain[:6], usage, ts_low | (ts_high << 16), session, rnd)


@register
class YubikeyToken(TokenClass):
    """Enrollment: ``otpkey`` (the 16-byte AES key, hex), optional ``yubikey.prefix`` (the
    modhex public id; if set, the OTP must carry it), ``yubikey.tokenid`` (private uid,
    hex; learned from the first valid OTP when not given) and ``otplen`` (44, or 48 for a
    16-character public id)."""

    type = "yubikey"
    prefix = "UBAM"
    title = "Yubikey in AES mode"
    # The private uid of the last OTP check_otp accepted; consume records it if unknown.
    _matched_uid: bytes | None = None

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        generate = param_bool(params, "genkey")
        if generate and params.get("otpkey"):
            raise ParameterError("give either genkey or otpkey, not both")
        if generate:
            key = os.urandom(16)
            detail["otpkey"] = {"description": "OTP seed", "value": f"seed://{key.hex()}"}
        elif params.get("otpkey"):
            key = decode_key(params)
        else:
            raise ParameterError("missing parameter: otpkey (or genkey=1)")
        if len(key) != 16:
            raise ParameterError("otpkey must be the 16-byte AES key (32 hex digits)")
        self.set_secret(key)
        public_id = str(params.get("yubikey.prefix") or "").strip().lower()
        if public_id:
            try:
                modhex_decode(public_id)
            except ValueError:
                raise ParameterError("yubikey.prefix must be modhex (cbdefghijklnrtuv)") from None
            self.set_info("yubikey.prefix", public_id)
        default_len = len(public_id) + OTP_CHARS if public_id else DEFAULT_OTPLEN
        self.row.otplen = param_int(params, "otplen", default_len)
        if self.row.otplen < OTP_CHARS or (public_id and self.row.otplen != len(public_id) + OTP_CHARS):
            raise ParameterError("otplen must be the length of public id and OTP (usually 44)")
        uid = str(params.get("yubikey.tokenid") or "").strip().lower()
        if uid:
            try:
                if len(bytes.fromhex(uid)) != 6:
                    raise ValueError
            except ValueError:
                raise ParameterError("yubikey.tokenid must be the 6-byte private id in hex") from None
            self.set_info("yubikey.tokenid", uid)
        self.row.count = 0
        return detail

    def _decode(self, otp: str) -> tuple[int, YubicoOtp | None]:
        """(status, fields): status 0 when the OTP is well-formed, decrypts, checks out and
        belongs to this key; else one of the negative codes."""
        if len(otp) != self.row.otplen or len(otp) < OTP_CHARS:
            return BAD_CRC, None
        public_id, block_text = otp[:-OTP_CHARS].lower(), otp[-OTP_CHARS:]
        expected_id = self.info("yubikey.prefix")
        if expected_id and not hmac.compare_digest(public_id.encode(), expected_id.encode()):
            return WRONG_UID, None
        try:
            block = modhex_decode(block_text)
        except ValueError:
            return BAD_CRC, None
        fields = YubicoOtp.decrypt(self.secret(), block)
        if fields is None:
            return BAD_CRC, None
        uid = self.info("yubikey.tokenid")
        if uid and not hmac.compare_digest(bytes.fromhex(uid), fields.uid):
            return WRONG_UID, None
        return 0, fields

    def check_otp(self, otp: str) -> int:
        """The OTP's counter, or -1 (replayed/old), -2 (wrong uid or public id), -3 (CRC)."""
        status, fields = self._decode(otp)
        if fields is None:
            return status
        if fields.counter < self.row.count:
            return OLD_COUNTER
        self._matched_uid = fields.uid
        return fields.counter

    def previously_used(self, otp: str) -> bool:
        _, fields = self._decode(otp)
        return fields is not None and fields.counter < self.row.count

    def consume(self, session: Session, matched: int, success: Success | None = None) -> bool:
        if not super().consume(session, matched, success):
            return False
        # Learn the private uid from the first valid OTP (privacyIDEA does the same), so
        # a later OTP of another key sharing this AES key is refused.
        if not self.info("yubikey.tokenid") and self._matched_uid is not None:
            self.set_info("yubikey.tokenid", self._matched_uid.hex())
        return True
