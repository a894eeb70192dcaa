"""Password hashes found in user stores: verify any supported format, write the configured one.

A user store holds whatever its own application wrote (LDAP-style ``{SSHA256}``, WordPress
phpass, OTRS hex SHA-256, glibc crypt, bcrypt), so verification recognises the format from
the stored value; writing uses the resolver's ``Password_Hash_Type``. Every comparison of a
computed hash with a stored one is constant-time, and a malformed stored value is a
mismatch, never an exception on the authentication path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import bcrypt as _bcrypt
from passlib.hash import md5_crypt, sha256_crypt, sha512_crypt

# The hash types an editable resolver can write (privacyIDEA's names, plus BCRYPT).
HASH_TYPES = ("SSHA256", "SSHA", "SSHA512", "SHA", "OTRS", "PHPASS", "SHA256CRYPT",
              "SHA512CRYPT", "MD5CRYPT", "BCRYPT")
DEFAULT_HASH_TYPE = "SSHA256"

# glibc's default round count: what /etc/shadow and most tools write. passlib's own default
# (656,000) costs most of a second per check in its pure-Python backend, which would let a
# few userstore logins occupy every worker thread.
CRYPT_ROUNDS = 5000
# PHP's password_hash() default cost.
BCRYPT_COST = 10
# bcrypt reads at most 72 bytes of the password; the libraries that wrote it truncated.
BCRYPT_MAX_BYTES = 72
# WordPress writes $P$B: 2**13 rounds of MD5.
PHPASS_COUNT_LOG2 = 13

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SALTED = {"{SSHA}": hashlib.sha1, "{SSHA256}": hashlib.sha256, "{SSHA512}": hashlib.sha512}
_UNSALTED = {"{SHA}": hashlib.sha1, "{SHA256}": hashlib.sha256, "{SHA512}": hashlib.sha512}


def _same(computed: str | bytes, stored: str | bytes) -> bool:
    a = computed.encode() if isinstance(computed, str) else computed
    b = stored.encode() if isinstance(stored, str) else stored
    return hmac.compare_digest(a, b)


# ---- LDAP-style {SCHEME}base64 -----------------------------------------------------------

def _check_salted(password: bytes, stored: str, *, func: Callable[..., Any], skip: int) -> bool:
    raw = base64.b64decode(stored[skip:], validate=True)
    size = func().digest_size
    if len(raw) < size:
        return False
    digest, salt = raw[:size], raw[size:]
    return _same(func(password + salt).digest(), digest)


def _check_unsalted(password: bytes, stored: str, *, func: Callable[..., Any], skip: int) -> bool:
    return _same(base64.b64encode(func(password).digest()), stored[skip:].strip())


def _make_salted(password: bytes, scheme: str) -> str:
    salt = os.urandom(8)  # 64 bits, as OpenLDAP's slappasswd writes
    digest = _SALTED[scheme](password + salt).digest()
    return scheme + base64.b64encode(digest + salt).decode()


# ---- phpass (WordPress $P$, phpBB $H$, Drupal 7 $S$) -------------------------------------

def _encode64(data: bytes) -> str:
    """phpass's base64 variant: little-endian 6-bit groups over ``_ITOA64``."""
    out: list[str] = []
    for start in range(0, len(data), 3):
        chunk = data[start:start + 3]
        value = int.from_bytes(chunk, "little")
        out.extend(_ITOA64[(value >> shift) & 0x3F] for shift in range(0, 6 * (len(chunk) + 1), 6))
    return "".join(out)


def _phpass(password: bytes, setting: str) -> str | None:
    """The full hash for ``setting`` (its first 12 characters), or None when malformed."""
    count_log2 = _ITOA64.find(setting[3:4])
    salt = setting[4:12]
    if not 7 <= count_log2 <= 30 or len(salt) != 8:
        return None
    drupal = setting.startswith("$S$")
    func = hashlib.sha512 if drupal else hashlib.md5
    digest = func(salt.encode() + password).digest()
    for _ in range(1 << count_log2):
        digest = func(digest + password).digest()
    # Drupal truncates its hashes to 55 characters; phpass's MD5 form is 34 long.
    return (setting[:12] + _encode64(digest))[:55 if drupal else 34]


def _check_phpass(password: bytes, stored: str) -> bool:
    computed = _phpass(password, stored)
    return computed is not None and _same(computed, stored)


def _make_phpass(password: bytes) -> str:
    setting = "$P$" + _ITOA64[PHPASS_COUNT_LOG2] + _encode64(os.urandom(6))
    result = _phpass(password, setting)
    assert result is not None
    return result


# ---- crypt(3) and bcrypt -----------------------------------------------------------------

_CRYPT = {"$1$": md5_crypt, "$5$": sha256_crypt, "$6$": sha512_crypt}


def _check_crypt(password: bytes, stored: str) -> bool:
    return bool(_CRYPT[stored[:3]].verify(password, stored))


def _check_bcrypt(password: bytes, stored: str) -> bool:
    return _bcrypt.checkpw(password[:BCRYPT_MAX_BYTES], stored.encode())


def _make_bcrypt(password: bytes) -> str:
    return _bcrypt.hashpw(password[:BCRYPT_MAX_BYTES], _bcrypt.gensalt(BCRYPT_COST)).decode()


# ---- dispatch ----------------------------------------------------------------------------

def _verifier(stored: str) -> Callable[[bytes, str], bool] | None:
    """The check for the format of ``stored``, or None for a format we do not know."""
    upper = stored[:9].upper()
    for scheme, func in _SALTED.items():
        if upper.startswith(scheme):
            return partial(_check_salted, func=func, skip=len(scheme))
    for scheme, func in _UNSALTED.items():
        if upper.startswith(scheme):
            return partial(_check_unsalted, func=func, skip=len(scheme))
    if upper.startswith("{CRYPT}"):
        return _check_crypt_prefixed
    if stored[:3] in ("$P$", "$H$", "$S$"):
        return _check_phpass
    if _HEX64.fullmatch(stored):
        return _check_otrs
    return _crypt_family(stored)


def _check_otrs(password: bytes, stored: str) -> bool:
    """OTRS: the hex SHA-256 of the password, unsalted."""
    return _same(hashlib.sha256(password).hexdigest(), stored.lower())


def _crypt_family(stored: str) -> Callable[[bytes, str], bool] | None:
    if stored[:3] in _CRYPT:
        return _check_crypt
    if stored[:4] in ("$2a$", "$2b$", "$2y$"):
        return _check_bcrypt
    return None


def _check_crypt_prefixed(password: bytes, stored: str) -> bool:
    """``{CRYPT}`` (RFC 2307) before a crypt(3) or bcrypt hash."""
    value = stored[len("{CRYPT}"):]
    check = _crypt_family(value)
    return check is not None and check(password, value)


def is_supported(stored: str) -> bool:
    """True when ``stored`` is in a format ``verify_password`` understands."""
    return _verifier(stored.strip()) is not None


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the stored hash; False for any other password, for
    an empty or unknown format and for a damaged hash."""
    if not stored:
        return False
    stored = stored.strip()
    check = _verifier(stored)
    if check is None:
        return False
    try:
        return check(password.encode("utf-8"), stored)
    except (ValueError, TypeError, binascii.Error):
        return False


def hash_password(password: str, hash_type: str = DEFAULT_HASH_TYPE) -> str:
    """A new hash of ``password`` in ``hash_type`` (one of ``HASH_TYPES``)."""
    secret = password.encode("utf-8")
    kind = hash_type.upper()
    if kind in ("SSHA", "SSHA256", "SSHA512"):
        return _make_salted(secret, "{" + kind + "}")
    if kind == "SHA":
        return "{SHA}" + base64.b64encode(hashlib.sha1(secret).digest()).decode()  # nosec B324  # LDAP {SHA} scheme
    if kind == "OTRS":
        return hashlib.sha256(secret).hexdigest()
    if kind == "PHPASS":
        return _make_phpass(secret)
    if kind == "BCRYPT":
        return _make_bcrypt(secret)
    crypt_handlers = {"MD5CRYPT": md5_crypt, "SHA256CRYPT": sha256_crypt, "SHA512CRYPT": sha512_crypt}
    if kind in crypt_handlers:
        handler = crypt_handlers[kind]
        if handler is md5_crypt:
            return str(handler.hash(secret))
        return str(handler.using(rounds=CRYPT_ROUNDS).hash(secret))
    raise ValueError(f"unknown password hash type {hash_type!r}; known: {', '.join(HASH_TYPES)}")
