"""HOTP (RFC 4226) and TOTP (RFC 6238) value computation, pinned by the RFC test vectors."""

from __future__ import annotations

import hashlib
import hmac
import struct

HASHLIBS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
# Key sizes that fit each hash (RFC 6238 appendix B uses these seed lengths).
DEFAULT_KEYSIZE = {"sha1": 20, "sha256": 32, "sha512": 64}


def hotp(key: bytes, counter: int, digits: int = 6, hashlib_name: str = "sha1") -> str:
    """The OTP value for ``counter``: HMAC, dynamic truncation, ``digits`` decimal digits."""
    if hashlib_name not in HASHLIBS:
        raise ValueError(f"unsupported hashlib {hashlib_name!r}")
    digest = hmac.digest(key, struct.pack(">Q", counter), hashlib_name)  # OpenSSL's one-shot HMAC
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10 ** digits).zfill(digits)


def find_counter(key: bytes, otp: str, start: int, window: int, digits: int,
                 hashlib_name: str) -> int:
    """The first counter in [start, start+window) whose value equals ``otp``, or -1.

    Every candidate is compared in constant time. The search stops at the first match:
    where in the window a value lies tells nothing secret (the counter is no secret), and
    a wrong value always costs the whole window.
    """
    wanted = otp.encode()
    first = max(start, 0)
    for counter in range(first, first + window):
        if hmac.compare_digest(hotp(key, counter, digits, hashlib_name).encode(), wanted):
            return counter
    return -1


def time_step(now: float, step: int, shift: int = 0) -> int:
    """The TOTP counter (RFC 6238 T) at ``now`` seconds since the epoch."""
    return int((now + shift) // step)
