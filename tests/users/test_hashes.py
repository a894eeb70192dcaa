"""Password hashes of user stores: published vectors, round trips, damaged and unknown values."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest
from passlib.hash import phpass

from tesserad.core.users.hashes import HASH_TYPES, hash_password, is_supported, verify_password

# Fixed vectors published with (or computed by) the reference implementations.
PUBLISHED = [
    # Openwall phpass test.php
    ("test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"),
    # Drupal 7 hashes as seen in the wild (password-hash.sh output)
    ("huan", "$S$DXZrp425p2VN9LXpDWxiBeqSZSPexyZNNPUo80fTTN2e/W15a97G"),
    ("Cookies1", "$S$Dr3Hm8Od9X0Ux/olZ.B8Uwh6./3E1l4nPfXebovKVvMB9zcmjkTn"),
    # Drepper's SHA-crypt specification (rounds 5000 implicit)
    ("Hello world!",
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
    # glibc crypt(3) MD5
    ("Hello world!", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"),
    # OpenBSD bcrypt test vector
    ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    # SHA-1("password") as RFC 2307 {SHA}
    ("password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    # FIPS 180-2 SHA-256("abc"), the OTRS format (64 hex digits)
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
]


@pytest.mark.parametrize(("password", "stored"), PUBLISHED)
def test_published_vectors(password: str, stored: str) -> None:
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)
    assert not verify_password(password[:-1], stored)


def _ssha(func: str, password: bytes, salt: bytes) -> str:
    digest = hashlib.new(func, password + salt).digest()
    return base64.b64encode(digest + salt).decode()


def test_salted_ldap_schemes_built_independently() -> None:
    salt = b"\x01\x02\x03\x04\x05\x06\x07\x08"
    for scheme, func in (("{SSHA}", "sha1"), ("{SSHA256}", "sha256"), ("{SSHA512}", "sha512")):
        stored = scheme + _ssha(func, b"s3cret", salt)
        assert verify_password("s3cret", stored), scheme
        assert verify_password("s3cret", scheme.lower() + stored[len(scheme):]), "scheme is case-insensitive"
        assert not verify_password("s3creT", stored)
    # A short salt (4 bytes, as OpenLDAP writes) works too.
    assert verify_password("pw", "{SSHA}" + _ssha("sha1", b"pw", b"abcd"))


def test_library_hashes_are_accepted() -> None:
    assert verify_password("pw", phpass.using(rounds=9).hash("pw"))  # $P$ from passlib
    assert verify_password("pw", phpass.using(ident="H", rounds=9).hash("pw"))  # phpBB $H$
    for ident in (b"2a", b"2b"):
        assert verify_password("pw", bcrypt.hashpw(b"pw", bcrypt.gensalt(4, prefix=ident)).decode())
    two_y = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)
    assert verify_password("pw", two_y)
    assert verify_password("pw", "{CRYPT}" + bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode())


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_written_hashes_round_trip(hash_type: str) -> None:
    stored = hash_password("pässword", hash_type)
    assert verify_password("pässword", stored)
    assert not verify_password("password", stored)
    assert hash_password("pässword", hash_type) != stored or hash_type in ("SHA", "OTRS")


def test_written_formats() -> None:
    assert hash_password("x", "SSHA256").startswith("{SSHA256}")
    assert hash_password("x", "ssha512").startswith("{SSHA512}")
    assert hash_password("x", "PHPASS").startswith("$P$B")
    assert phpass.verify("x", hash_password("x", "PHPASS"))  # readable by other phpass code
    assert hash_password("x", "SHA512CRYPT").startswith("$6$")
    assert hash_password("x", "OTRS") == hashlib.sha256(b"x").hexdigest()
    with pytest.raises(ValueError, match="unknown password hash type"):
        hash_password("x", "ROT13")


def test_bcrypt_long_passwords_are_truncated_like_their_writers() -> None:
    stored = bcrypt.hashpw(b"a" * 72, bcrypt.gensalt(4)).decode()
    assert verify_password("a" * 100, stored)


@pytest.mark.parametrize("stored", [
    None, "", "x", "*", "!", "plain-text", "{SSHA}not base64!", "{SSHA256}AAAA", "$6$bad",
    "$2y$04$" + "a" * 53, "$P$", "$P$Zshort", "{MD5}X03MO1qnZdYdgyfeuILPmQ==",
])
def test_damaged_or_unknown_values_never_match(stored: str | None) -> None:
    assert not verify_password("", stored)
    assert not verify_password("x", stored)


def test_is_supported() -> None:
    assert is_supported("$6$saltstring$abc")
    assert is_supported("{ssha256}abc")
    assert not is_supported("x")
