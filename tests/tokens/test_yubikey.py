"""Yubikey AES mode: Yubico's published test vectors, an encoder that plays the key, and
the counter, uid, CRC and public-id checks."""

from __future__ import annotations

import os
import struct

import pytest

from tesserad.core.store import Database
from tesserad.core.tokens.base import ParameterError, TokenEnv
from tesserad.core.tokens.yubikey import YubicoOtp, crc16, modhex_decode, modhex_encode

from tests.tokens.conftest import Enroll, load
from tests.tokens.fake_yubikey import KEY, PUBLIC_ID, UID, FakeYubikey

# https://developers.yubico.com/OTP/Specifications/Test_vectors.html
# (key, private uid, OTP, usage counter, timestamp low, timestamp high, session counter, random)
YUBICO_VECTORS = [
    (KEY, UID, "dvgtiblfkbgturecfllberrvkinnctnn", 1, 1, 1, 1, 0),
    (KEY, UID, "rnibcnfhdninbrdebccrndfhjgnhftee", 1, 1, 1, 2, 0),
    (KEY, UID, "iikkijbdknrrdhfdrjltvgrbkkjblcbh", 0xFFF, 1, 1, 1, 0),
    (b"\x88" * 16, b"\x88" * 6, "dcihgvrhjeucvrinhdfddbjhfjftjdei", 0x8888, 0x8888, 0x88, 0x88, 0x8888),
]


@pytest.mark.parametrize("key, uid, otp, usage, ts_low, ts_high, session, rnd", YUBICO_VECTORS)
def test_yubico_test_vectors(key: bytes, uid: bytes, otp: str, usage: int, ts_low: int, ts_high: int,
                             session: int, rnd: int) -> None:
    fields = YubicoOtp.decrypt(key, modhex_decode(otp))
    assert fields is not None
    assert (fields.uid, fields.usage, fields.timestamp, fields.session, fields.random) == \
        (uid, usage, ts_low | ts_high << 16, session, rnd)
    assert fields.counter == ((usage & 0x7FFF) << 8) | session
    # The encoder reproduces the vector, so the tests below use real OTPs.
    device = FakeYubikey(key, uid)
    assert device.block(usage, session, ts_low | ts_high << 16, rnd) == otp


def test_modhex_and_crc() -> None:
    assert modhex_decode("dvgtiblfkbgturecfllberrvkinnctnn").hex() == "2f5d71a4915dec304aa13ccf97bb0dbb"
    assert modhex_encode(bytes.fromhex("2f5d71a4915dec304aa13ccf97bb0dbb")) == "dvgtiblfkbgturecfllberrvkinnctnn"
    with pytest.raises(ValueError):
        modhex_decode("abcd")  # a is not modhex
    body = os.urandom(14)
    assert crc16(body + struct.pack("<H", ~crc16(body) & 0xFFFF)) == 0xF0B8
    assert YubicoOtp.decrypt(KEY, bytes(16)) is None


def test_yubikey_enrollment(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("yubikey", {"otpkey": KEY.hex()})
    assert serial.startswith("UBAM") and detail == {}
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 44 and token.secret() == KEY
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex(), "yubikey.prefix": "vvcccccccccccccc"})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 48 and token.info("yubikey.prefix") == "vvcccccccccccccc"
    _, detail = enroll("yubikey", {"genkey": "1"})
    assert len(bytes.fromhex(detail["otpkey"]["value"].removeprefix("seed://"))) == 16


@pytest.mark.parametrize("params", [
    {}, {"otpkey": "00" * 20}, {"otpkey": KEY.hex(), "yubikey.prefix": "abcdef"},
    {"otpkey": KEY.hex(), "yubikey.prefix": "cccccccccccc", "otplen": "48"},
    {"otpkey": KEY.hex(), "yubikey.tokenid": "0102"},
])
def test_yubikey_enrollment_refuses_bad_parameters(enroll: Enroll, params: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        enroll("yubikey", params)


@pytest.mark.both_backends
def test_yubikey_counter_must_grow(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex()})
    device = FakeYubikey()
    first, second = device.press(), device.press()
    device.replug()
    third = device.press()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.split_pin("pin" + first) == ("pin", first)
        assert token.check_otp(second) == (1 << 8) | 1
        assert token.consume(session, token.check_otp(second))  # a later OTP first...
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(first) == -1  # ...makes the earlier one old
        assert token.previously_used(first) is True
        assert token.check_otp(second) == -1 and token.previously_used(second)
        assert token.check_otp(third) == 2 << 8  # a new session after re-plugging
        assert token.previously_used(third) is False
        assert token.consume(session, 2 << 8)
        session.commit()
    with database.session() as first_session, database.session() as second_session:
        otp = device.press()
        a, b = load(first_session, env, serial), load(second_session, env, serial)
        assert a.check_otp(otp) == b.check_otp(otp) == (2 << 8) | 1
        assert a.consume(first_session, (2 << 8) | 1) is True
        first_session.commit()
        assert b.consume(second_session, (2 << 8) | 1) is False


def test_yubikey_learns_and_then_enforces_the_private_uid(database: Database, env: TokenEnv,
                                                          enroll: Enroll) -> None:
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex()})
    device = FakeYubikey()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.info("yubikey.tokenid") is None
        assert token.consume(session, token.check_otp(device.press()))
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.info("yubikey.tokenid") == UID.hex()
        impostor = FakeYubikey(uid=b"\x09" * 6)
        impostor.usage = 5
        assert token.check_otp(impostor.press()) == -2
        assert token.check_otp(device.press()) == (1 << 8) | 1


def test_yubikey_given_uid_and_public_id_are_checked(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex(), "yubikey.tokenid": UID.hex(),
                                   "yubikey.prefix": PUBLIC_ID})
    device = FakeYubikey()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(device.press()) == 1 << 8
        assert token.check_otp(FakeYubikey(uid=b"\x07" * 6).press()) == -2
        assert token.check_otp(FakeYubikey(public_id="cccccccccccb").press()) == -2
        assert token.check_otp(PUBLIC_ID + device.block(3, 0, corrupt=True)) == -3
        assert token.check_otp(FakeYubikey(key=b"\x01" * 16).press()) == -3  # wrong AES key
        assert token.check_otp(PUBLIC_ID + "a" * 32) == -3                 # not modhex
        assert token.check_otp(device.press()[1:]) == -3                   # wrong length


def test_yubikey_48_character_otp(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex(), "otplen": "48"})
    device = FakeYubikey(public_id="vvcccccccccccccc")
    with database.session() as session:
        token = load(session, env, serial)
        otp = device.press()
        assert len(otp) == 48
        assert token.split_pin("1234" + otp) == ("1234", otp)
        assert token.check_otp(otp) == 1 << 8


def test_yubikey_caps_lock_flag_is_not_counted(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("yubikey", {"otpkey": KEY.hex()})
    device = FakeYubikey()
    with database.session() as session:
        token = load(session, env, serial)
        token.row.count = (3 << 8) + 1
        assert token.check_otp(PUBLIC_ID + device.block(0x8003, 0)) == -1  # still usage 3, session 0
        assert token.check_otp(PUBLIC_ID + device.block(0x8003, 1)) == (3 << 8) | 1
